"""YAML (and JSON) read from a caller, bounded: scenario files, `PUT /control/scenario`,
experiment and route files all come through here.

PyYAML shares an aliased node rather than copying it, so "a billion laughs" loads quickly into a
small graph; what blows up is whatever walks it as a tree later (validation, `orjson.dumps` of a
scripted reply, the request templates). So the document is measured as a tree — every value
counted as often as aliases repeat it, in one pass over the shared graph — and refused past
`MAX_VALUES`, before anything else reads it.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_BYTES = 4 * 1024 * 1024  # a scenario, experiment or route file, or a control API body
MAX_VALUES = 1_000_000  # values (mappings, lists, scalars) once aliases are expanded

# libyaml's loader when PyYAML was built with it: the same result, several times faster.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class InputTooLarge(ValueError):
    """A document past one of the bounds above; the message says which."""


def load_yaml(text: str | bytes) -> Any:
    """The data in `text`, or `InputTooLarge`; invalid YAML raises `yaml.YAMLError` as usual."""
    size = len(text.encode() if isinstance(text, str) else text)
    if size > MAX_BYTES:
        raise InputTooLarge(f"{size:,} bytes: more than the {MAX_BYTES:,} a file or body may hold")
    try:
        data = yaml.load(text, Loader=_Loader)
        values = expanded_values(data)
    except RecursionError:
        raise InputTooLarge("nested too deeply") from None
    if values > MAX_VALUES:
        raise InputTooLarge(f"expands to more than {MAX_VALUES:,} values (aliases repeated inside aliases)")
    return data


def expanded_values(data: Any) -> int:
    """How many values `data` holds as a tree, each shared container counted once per use,
    in time proportional to the graph, not the tree."""
    sizes: dict[int, int] = {}

    def size(value: Any) -> int:
        if isinstance(value, dict | list):
            known = sizes.get(id(value))
            if known is None:
                if isinstance(value, dict):
                    known = 1 + sum(size(k) + size(v) for k, v in value.items())
                else:
                    known = 1 + sum(size(v) for v in value)
                known = min(known, MAX_VALUES + 1)  # no need to count past the bound
                sizes[id(value)] = known
            return known
        return 1

    return size(data)
