"""The HTML report: one self-contained page per invocation, rewritten after every run. Import
from `harness.report.html`; `page` assembles it from the `tables` and `charts` of each run."""

from __future__ import annotations

from harness.report.files import RunResults
from harness.report.html.charts import MAX_POINTS
from harness.report.html.page import CSS, HtmlHandler, render_html, run_section, write_html

__all__ = ["CSS", "MAX_POINTS", "HtmlHandler", "RunResults", "render_html", "run_section", "write_html"]
