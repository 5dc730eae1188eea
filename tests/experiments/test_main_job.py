"""The README's main job (`rehearse run experiments/ --html …`, see tests/main_job.py), run once:
it exits 0 with its report written, and every probe of the library holds against the correct
sampleapp.

Every test that reads the main job lives here, in the module collected first: under
`pytest -n` (`--dist loadscope`) a module's tests share one worker, so the main job, the
longest single step of the suite, runs once and starts first.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import MAIN_JOB_TIMEOUT_S
from tests.experiments.test_probe_library import PROBES, clause_table
from tests.main_job import MainJob


@pytest.mark.timeout(MAIN_JOB_TIMEOUT_S)
def test_the_main_job_passes_every_probe_and_writes_its_report(main_job: MainJob) -> None:
    assert main_job.returncode == 0, main_job.output
    report = re.search(r"--html (\S+)", main_job.step)
    assert report
    assert f"wrote {report.group(1)}" in main_job.output
    html = (main_job.copy / report.group(1)).read_text()
    assert "<svg" in html
    for path in sorted((main_job.copy / "experiments").glob("*.yaml")):
        title = yaml.safe_load(path.read_text())["title"]
        assert f"PASS  {title}" in main_job.output, main_job.output


@pytest.mark.timeout(MAIN_JOB_TIMEOUT_S)
@pytest.mark.parametrize("probe", [Path(p).name for p in PROBES])
def test_probe_holds_against_the_correct_sampleapp(main_job: MainJob, probe: str) -> None:
    journal = main_job.journals[probe]
    verdicts = {r["verdict"] for r in journal["results"]}
    assert journal["status"] == "completed", journal["error"]
    assert verdicts == {"pass"}, f"{probe}:\n{clause_table(journal)}"
