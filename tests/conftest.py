"""Shared fixtures: a real fake-provider server on a free port, and official SDK clients."""

from __future__ import annotations

import json
import time
import types
import urllib.request
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest

from fakeprovider import FakeProviderThread
from fakeprovider.accounting.ledger import LedgerRecord
from tests.main_job import RUN_TIMEOUT_S, MainJob, run_main_job


@pytest.fixture(scope="session")
def main_job(tmp_path_factory: pytest.TempPathFactory) -> MainJob:
    """The README's main job (`rehearse run experiments/ …`), run once for the whole session."""
    return run_main_job(tmp_path_factory.mktemp("main-job"))


MAIN_JOB_TIMEOUT_S = RUN_TIMEOUT_S + 60

# What makes a test SDK-facing (marked `sdk`, the set `scripts/drift.py` runs against the newest
# releases): it talks to the provider through an official SDK, directly or through the test
# helpers and fixtures that wrap one, or it runs the sampleapp, whose routes call the openai SDK.
_SDK_MODULES = (
    "openai",
    "anthropic",
    "boto3",
    "botocore",
    "google.genai",
    "httpx2",
    "sampleapp",
    "tests.fakeprovider.e2e",
    "tests.sampleapp",
)
_SDK_FIXTURES = frozenset({"openai_client", "anthropic_client", "main_job"})
_SDK_DIRS = ("sampleapp", "locustfiles", "experiments")


def _uses_sdk(module: types.ModuleType) -> bool:
    if module.__name__.startswith(_SDK_MODULES):
        return True
    for value in vars(module).values():
        name = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
        if isinstance(name, str) and name.startswith(_SDK_MODULES):
            return True
    return False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    sdk = pytest.mark.sdk
    for item in items:
        module = getattr(item, "module", None)
        in_sdk_dir = item.path.parent.name in _SDK_DIRS
        if in_sdk_dir or (module is not None and _uses_sdk(module)) or _SDK_FIXTURES & set(item.fixturenames):
            item.add_marker(sdk)


@pytest.fixture
def provider() -> Iterator[FakeProviderThread]:
    """A fresh provider (instant latency, seed 0) on 127.0.0.1 and a free port."""
    with FakeProviderThread(latency="none", seed=0) as p:
        yield p


# Answers of 400 tokens, past any cap a test sets: for tests of the cap itself, since a natural
# answer to a short prompt ends well inside one.
LONG_ANSWERS = {"answer_length": {"default": {"median_tokens": 400, "per_prompt_token": 0, "spread": 0}}}


def put_scenario(provider_url: str, scenario: dict[str, Any]) -> None:
    """Put `scenario` in force on a running provider, through its control API."""
    put = urllib.request.Request(
        provider_url + "/control/scenario", data=json.dumps(scenario).encode(), method="PUT"
    )
    put.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(put, timeout=10) as resp:
        assert resp.status == 200


@pytest.fixture
def long_answers(provider: FakeProviderThread) -> None:
    """`provider` answers with `LONG_ANSWERS`."""
    put_scenario(provider.url, LONG_ANSWERS)


@pytest.fixture
def openai_client(provider: FakeProviderThread) -> Iterator[openai.OpenAI]:
    client = openai.OpenAI(base_url=provider.url + "/v1", api_key="sk-test", max_retries=0)
    yield client
    client.close()


@pytest.fixture
def anthropic_client(provider: FakeProviderThread) -> Iterator[anthropic.Anthropic]:
    client = anthropic.Anthropic(base_url=provider.url, api_key="sk-ant-test", max_retries=0)
    yield client
    client.close()


def wait_for_record(provider: FakeProviderThread, count: int = 1, timeout_s: float = 2.0) -> LedgerRecord:
    """The newest ledger record once `count` exist: a stream's record is written just after its
    last byte, so a client can finish reading before the server has recorded the call."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        records = provider.state.ledger.records()
        if len(records) >= count:
            return records[-1]
        time.sleep(0.01)
    raise AssertionError(f"fewer than {count} ledger records after {timeout_s} s")
