"""The JSON Schema of experiment files, for editors (`rehearse schema`)."""

from __future__ import annotations

from typing import Any

from harness.contract import REGISTRY
from harness.experiment.model import Experiment


def experiment_schema() -> dict[str, Any]:
    """The experiment model's schema, with each contract clause's parameters spelled out."""
    schema = Experiment.model_json_schema(by_alias=True)
    defs: dict[str, Any] = schema.setdefault("$defs", {})
    clauses = {}
    for name, cls in sorted(REGISTRY.items()):
        params = cls.Params.model_json_schema()
        # A clause's nested models (`#/$defs/...` references) must live in the root's $defs.
        for def_name, definition in params.pop("$defs", {}).items():
            if defs.setdefault(def_name, definition) != definition:
                raise ValueError(f"clause {name}: schema definition {def_name!r} clashes with another")
        clauses[name] = {
            "type": "object",
            "properties": {name: params},
            "required": [name],
            "additionalProperties": False,
        }
    defs["ClauseSpec"] = {
        "description": "One contract clause: a mapping of its name to its parameters.",
        "oneOf": list(clauses.values()),
    }
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "rehearsal experiment"
    return schema
