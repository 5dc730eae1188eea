"""`hang`: hold the answer back for `after_s` seconds, or for ever."""

from __future__ import annotations

import pydantic
import pytest

from fakeprovider.faults.base import Hold
from tests.fakeprovider.faults.conftest import CLAUDE, context, fault, request


def test_hang_with_after_s_holds_that_long() -> None:
    assert fault("hang", after_s=12.5).answer(context(request())) == Hold(12.5)


def test_hang_without_after_s_holds_for_ever() -> None:
    assert fault("hang").answer(context(request(CLAUDE))) == Hold(None)


def test_hang_applies_to_embeddings_too() -> None:
    ctx = context(request())
    ctx.req = None
    assert fault("hang").applies(ctx)


@pytest.mark.parametrize("after_s", [0, -1])
def test_hang_refuses_a_non_positive_wait(after_s: float) -> None:
    with pytest.raises(pydantic.ValidationError, match="after_s"):
        fault("hang", after_s=after_s)
