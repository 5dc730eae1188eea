"""The registry: every kind of SPEC §2 (and §9's `stall`) is a plug-in found by name, with
strict typed params."""

from __future__ import annotations

import pydantic
import pytest

from fakeprovider import faults
from fakeprovider.faults.base import FaultKind, FaultParams, register
from fakeprovider.scenario.rules import FaultRule

SPEC_KINDS = [
    "http_error",
    "rate_limit",
    "slow",
    "hang",
    "partial",
    "malformed_tool_call",
    "malformed_output",
    "context_length",
    "content_filter",
    "connection_reset",
    "stall",
]


def test_every_kind_of_the_spec_is_registered() -> None:
    assert set(SPEC_KINDS) <= set(faults.REGISTRY)


@pytest.mark.parametrize("kind", SPEC_KINDS)
def test_a_kind_is_registered_under_its_own_name_with_its_own_params(kind: str) -> None:
    cls = faults.REGISTRY[kind]
    assert cls.name == kind
    assert issubclass(cls.Params, FaultParams)
    assert cls.Params.model_validate({"kind": kind}).kind == kind


@pytest.mark.parametrize("kind", SPEC_KINDS)
def test_every_params_model_rejects_unknown_fields(kind: str) -> None:
    with pytest.raises(pydantic.ValidationError, match="no_such_field"):
        faults.REGISTRY[kind].Params.model_validate({"kind": kind, "no_such_field": 1})


@pytest.mark.parametrize("kind", SPEC_KINDS)
def test_build_makes_the_kind_its_params_name(kind: str) -> None:
    params = faults.REGISTRY[kind].Params.model_validate({"kind": kind})
    built = faults.build(params)
    assert isinstance(built, faults.REGISTRY[kind])
    assert built.params is params


def test_registering_a_name_twice_is_refused() -> None:
    class Again(FaultKind):
        name = "http_error"
        Params = FaultParams

    with pytest.raises(ValueError, match="registered twice"):
        register(Again)


def test_a_rule_error_names_the_kinds_own_field() -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        FaultRule.model_validate({"fault": {"kind": "http_error", "status": 418}})
    assert [".".join(map(str, e["loc"])) for e in info.value.errors()] == ["fault.http_error.status"]


def test_a_rule_with_an_unknown_kind_is_refused() -> None:
    with pytest.raises(pydantic.ValidationError, match="fault"):
        FaultRule.model_validate({"fault": {"kind": "meteor_strike"}})


@pytest.mark.parametrize("kind", SPEC_KINDS)
def test_a_rule_accepts_every_kind_with_defaults(kind: str) -> None:
    assert FaultRule.model_validate({"fault": {"kind": kind}}).fault.kind == kind
