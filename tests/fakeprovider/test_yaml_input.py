"""Bounded YAML input: an alias bomb or an oversized document is refused before anything walks
it, by the scenario reader, the control API and the experiment reader alike."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from fakeprovider import FakeProviderThread
from fakeprovider.scenario import ScenarioError, parse_scenario
from fakeprovider.yaml_input import MAX_BYTES, MAX_VALUES, InputTooLarge, expanded_values, load_yaml
from harness.cli import main as rehearse


def bomb(levels: int = 9) -> str:
    """A scripted reply's JSON that expands to 10**levels values ("a billion laughs")."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    anchors = "\n".join(f"  {line}" for line in lines)
    return f"x-anchors:\n{anchors}\nresponses:\n  - reply: {{json: *a{levels - 1}}}\n"


def test_expanded_values_count_each_use_of_a_shared_value() -> None:
    shared = [1, 2, 3]
    assert expanded_values({"a": shared, "b": shared}) == 1 + 2 * (1 + 4)


def test_an_alias_bomb_is_refused_in_time_proportional_to_the_file() -> None:
    with pytest.raises(InputTooLarge, match=f"expands to more than {MAX_VALUES:,} values"):
        load_yaml(bomb())


def test_a_document_past_the_byte_bound_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(InputTooLarge, match=f"more than the {MAX_BYTES:,}"):
        load_yaml("a: [" + "1, " * (MAX_BYTES // 3 + 1) + "1]")


def test_a_scenario_alias_bomb_is_a_scenario_error() -> None:
    with pytest.raises(ScenarioError, match=r"^s\.yaml: too large: expands to more than"):
        parse_scenario(bomb(), "s.yaml")


def test_the_control_api_refuses_a_bomb_with_a_400_and_keeps_serving() -> None:
    with (
        FakeProviderThread(latency="none") as provider,
        httpx2.Client(base_url=provider.url, timeout=10) as http,
    ):
        resp = http.put("/control/scenario", content=bomb(), headers={"Content-Type": "application/yaml"})
        assert resp.status_code == 400
        assert "expands to more than" in resp.text
        assert http.get("/control/health").status_code == 200


def test_an_experiment_file_past_the_bound_is_refused_before_it_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "big.yaml"
    with big.open("w") as f:
        f.write("title: t\n")
        f.write("# " + "x" * (MAX_BYTES + 10) + "\n")
    assert rehearse(["validate", str(big)]) == 2
    assert f"{big}: {big.stat().st_size:,} bytes: more than the {MAX_BYTES:,}" in capsys.readouterr().err


def test_an_alias_bomb_in_an_experiment_request_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bomb.yaml"
    anchors = bomb().split("responses:")[0]
    path.write_text(
        anchors
        + "title: t\ntarget: {url: 'http://127.0.0.1:8080', request: {path: /x, json: *a8}}\n"
        + "load: {mode: open, rate: 1}\nphases: [{name: p, duration_s: 1}]\n"
    )
    assert rehearse(["validate", str(path)]) == 2
    assert "too large: expands to more than" in capsys.readouterr().err
