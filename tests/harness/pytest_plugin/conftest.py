"""`suite`: a pytester directory set up as a strict user project with the service fixture.

The inner sessions run in this process (the plugin is loaded from its entry point there too);
the heavy modules are imported here first, so that pytester's restoring of `sys.modules` after
each inner run keeps them rather than importing them again.
"""

from __future__ import annotations

import httpcore2  # noqa: F401  (imported before any inner run: see below)
import pytest

import harness.pytest_plugin.experiment
import harness.pytest_plugin.provider  # noqa: F401

# httpx2 maps httpcore2's exceptions through a table it builds on first use. Were httpcore2
# first imported inside an inner run, pytester would drop it afterwards, a later import would
# make new exception classes, and the table (kept with httpx2) would no longer match them: a
# connection error would escape the SDKs unwrapped in every later test of this process.
from tests.harness.pytest_plugin.inner import CONFTEST, PYPROJECT


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyprojecttoml(PYPROJECT)
    pytester.makeconftest(CONFTEST)
    return pytester
