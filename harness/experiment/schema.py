"""The JSON Schema of experiment files, for editors (`rehearse schema`)."""

from __future__ import annotations

from typing import Any

from harness.contract import REGISTRY
from harness.experiment.model import Experiment


def experiment_schema() -> dict[str, Any]:
    """The experiment model's schema, with each contract clause's parameters spelled out."""
    schema = Experiment.model_json_schema(by_alias=True)
    clauses = {
        name: {
            "type": "object",
            "properties": {name: cls.Params.model_json_schema()},
            "required": [name],
            "additionalProperties": False,
        }
        for name, cls in sorted(REGISTRY.items())
    }
    schema.setdefault("$defs", {})["ClauseSpec"] = {
        "description": "One contract clause: a mapping of its name to its parameters.",
        "oneOf": list(clauses.values()),
    }
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "rehearsal experiment"
    return schema
