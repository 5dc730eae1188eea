"""`suite`: a pytester directory set up as a strict user project with the service fixture.

The inner sessions run in this process (the plugin is loaded from its entry point there too);
the heavy modules are imported here first, so that pytester's restoring of `sys.modules` after
each inner run keeps them rather than importing them again.
"""

from __future__ import annotations

import pytest

import harness.pytest_plugin.experiment
import harness.pytest_plugin.provider  # noqa: F401
from tests.harness.pytest_plugin.inner import CONFTEST, PYPROJECT


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyprojecttoml(PYPROJECT)
    pytester.makeconftest(CONFTEST)
    return pytester
