"""`load` fields of the locust engine: validated before anything runs, each error naming its
field."""

from __future__ import annotations

import pytest

from harness.errors import InvalidExperiment
from harness.experiment.load import parse_experiment

HEAD = """title: t
target: {url: "http://127.0.0.1:8080", request: {path: /chat}}
phases: [{name: steady, duration_s: 1}]
"""


def _load(load: str) -> str:
    return HEAD + f"load: {load}\n"


def test_locust_fields_are_read_and_closed_loop_users_default_to_the_concurrency() -> None:
    exp = parse_experiment(
        _load("{engine: locust, rate: 5, users: 8, spawn_rate: 4, processes: 2}"), "x.yaml"
    )
    assert (exp.load.users, exp.load.spawn_rate, exp.load.processes) == (8, 4, 2)
    closed = parse_experiment(_load("{engine: locust, mode: closed, concurrency: 3}"), "x.yaml")
    assert closed.load.locust_users == 3


def test_locust_users_without_a_rate_are_a_closed_loop_of_that_many_users() -> None:
    exp = parse_experiment(_load("{engine: locust, users: 6}"), "x.yaml")
    assert (exp.load.mode, exp.load.locust_users) == ("closed", 6)
    # An open loop asked for by name still needs its rate.
    with pytest.raises(InvalidExperiment, match="open loop needs `rate`"):
        parse_experiment(_load("{engine: locust, mode: open, users: 6}"), "x.yaml")


@pytest.mark.parametrize(
    ("load", "error"),
    [
        ("{engine: locust, rate: 5}", "load.users (line 4): engine: locust in open mode needs `users`"),
        (
            "{engine: locust, mode: closed}",
            "load.users (line 4): engine: locust in closed mode needs `users`",
        ),
        (
            "{engine: locust, mode: closed, users: 2, concurrency: 3}",
            "load.users (line 4): closed loop: `users` and `concurrency` disagree",
        ),
        (
            "{engine: locust, rate: 5, users: 2, processes: 3}",
            "load.processes (line 4): more processes than users",
        ),
        (
            "{engine: locust, rate: 5, users: 2, processes: 0}",
            "load.processes (line 4): Input should be greater",
        ),
        ("{rate: 5, users: 2}", "load.users (line 4): applies only to `engine: locust`"),
        ("{rate: 5, processes: 2}", "load.processes (line 4): applies only to `engine: locust`"),
    ],
)
def test_bad_locust_load_is_refused_naming_the_field(load: str, error: str) -> None:
    with pytest.raises(InvalidExperiment) as caught:
        parse_experiment(_load(load), "x.yaml")
    assert f"x.yaml: {error}" in str(caught.value)
