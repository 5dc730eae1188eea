"""What every chart writes goes through here: escaping, short numbers, labels cut to fit."""

from __future__ import annotations

import pytest

from harness.report.svg.canvas import Frame, clip, e, fmt_num


def test_text_is_escaped_for_content_and_attributes() -> None:
    assert e('<b a="x">&\'') == "&lt;b a=&quot;x&quot;&gt;&amp;&#x27;"
    f = Frame()
    f.open('"><script>')
    f.text(0, 0, "<script>", data_x='"q"')
    page = f.close()
    assert "<script>" not in page
    assert 'data-x="&quot;q&quot;"' in page


@pytest.mark.parametrize(
    ("value", "want"), [(0, "0"), (0.1234, "0.12"), (5, "5"), (2.5, "2.5"), (12000, "12k"), (-30000, "-30k")]
)
def test_numbers_are_short(value: float, want: str) -> None:
    assert fmt_num(value) == want


def test_a_label_is_cut_with_an_ellipsis_only_when_longer_than_its_room() -> None:
    assert clip("steady", 6) == "steady"
    assert clip("steady-state", 6) == "stead…"
