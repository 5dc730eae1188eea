"""`connection_reset`: a TCP reset before any byte of the answer."""

from __future__ import annotations

import pydantic
import pytest

from fakeprovider.faults.base import CutConnection
from tests.fakeprovider.faults.conftest import CLAUDE, GPT, context, fault, request


@pytest.mark.parametrize("model_id", [GPT, CLAUDE])
def test_connection_reset_cuts_the_connection_before_any_plan(model_id: str) -> None:
    assert fault("connection_reset").answer(context(request(model_id))) == CutConnection("reset")


def test_connection_reset_applies_to_embeddings_too() -> None:
    ctx = context(request())
    ctx.req = None
    assert fault("connection_reset").applies(ctx)
    assert isinstance(fault("connection_reset").answer(ctx), CutConnection)


def test_connection_reset_takes_no_params() -> None:
    with pytest.raises(pydantic.ValidationError, match="extra"):
        fault("connection_reset", after_bytes=10)
