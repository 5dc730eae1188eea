from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from harness.contract.base import ClauseResult
from harness.record import PhaseWindow, Run
from harness.report.html import HtmlHandler, render_html, write_html

from .synthetic import HOSTILE_TITLE, make_results, make_run

VOID = {"meta", "br", "link", "img", "input", "hr", "col", "source", "wbr", "area", "base", "embed", "track"}


class Checker(HTMLParser):
    """Fails on a closing tag that does not match the open one; collects tags, attributes and text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack, f"</{tag}> closes nothing"
        assert self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1]}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Checker:
    checker = Checker()
    checker.feed(page)
    checker.close()
    assert checker.stack == [], f"unclosed: {checker.stack}"
    return checker


def test_page_is_well_formed_and_has_the_charts_and_phases() -> None:
    page = render_html([(make_run(), make_results())])
    doc = parse(page)
    text = " ".join(doc.text)
    assert doc.tags.count("svg") >= 4  # latency, outcome mix, provider outcomes, faults, attempts
    for phrase in (
        "steady",
        "outage",
        "Per-phase percentiles",
        "Outcome mix",
        "Provider attempts per request",
    ):
        assert phrase in text
    for clause in make_results():
        assert clause.title in text
    assert "/summarize" in text
    assert "acme" in text
    assert "gpt-4o-mini" in text
    assert "(untagged)" in text


def test_page_escapes_hostile_strings() -> None:
    run = make_run(HOSTILE_TITLE)
    run.phases[1] = PhaseWindow('<img src=x onerror="alert(1)">', 10.0, 20.0)
    for r in run.requests[100:]:
        r.phase = run.phases[1].name
    run.error = "<b>boom</b>"
    page = render_html(
        [(run, [ClauseResult("x", "<script>evil()</script>", "<i>", "</td>", "fail", ["<id>"])])]
    )
    doc = parse(page)
    assert "script" not in doc.tags
    assert "img" not in doc.tags
    assert "&lt;script&gt;" in page
    text = " ".join(doc.text)
    assert HOSTILE_TITLE in text
    assert "<script>evil()</script>" in text
    assert '<img src=x onerror="alert(1)">' in text


def test_page_fetches_nothing() -> None:
    page = render_html([(make_run(), make_results())])
    doc = parse(page)
    assert not {"script", "link", "img", "iframe", "object"} & set(doc.tags)
    urls = [v for k, v in doc.attrs if k in {"src", "href"} and v and not v.startswith("#")]
    assert urls == []
    assert re.findall(r"https?://[^\s\"']+", page) == ["http://www.w3.org/2000/svg"] * page.count("<svg")


def test_page_for_several_runs_links_each_one() -> None:
    page = render_html([(make_run("one"), make_results()), (make_run("two"), [])])
    doc = parse(page)
    hrefs = [v for k, v in doc.attrs if k == "href"]
    assert hrefs == ["#run-1", "#run-2"]
    assert ("id", "run-2") in doc.attrs


def test_page_of_a_run_that_never_started() -> None:
    run = Run(
        experiment={"title": "down"}, source="x.yaml", started_at=0.0, status="error", error="target down"
    )
    doc = parse(render_html([(run, [])]))
    text = " ".join(doc.text)
    assert "run error: target down" in text
    assert "No request finished" in text


def test_write_html_and_handler(tmp_path: Path) -> None:
    path = write_html(tmp_path / "r" / "report.html", [(make_run(), make_results())])
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    handler = HtmlHandler(tmp_path / "multi.html")
    handler.run_finished(make_run("one"), [])
    handler.run_finished(make_run("two"), [])
    assert 'href="#run-2"' in (tmp_path / "multi.html").read_text(encoding="utf-8")


def test_page_fits_a_narrow_window() -> None:
    page = render_html([(make_run(), make_results())])
    # Facts wrap between items, every table scrolls inside its own box, one column of charts.
    assert ".meta{color:#555;margin:2px 0 0;display:flex;flex-wrap:wrap" in page
    assert page.count("<table>") == page.count('<div class="wide"><table>') > 0
    assert "@media (max-width:900px)" in page
