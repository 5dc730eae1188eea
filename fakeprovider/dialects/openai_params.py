"""OpenAI's checks of a request's optional parameters, as one table: parameter name -> check.

The real API refuses an out-of-range `temperature` or a `logprobs: "yes"` with a 400 that names
the parameter, in the words below; a client's error handling is only rehearsed if we do too.
`check_params` walks the body's own keys, so a request that sends none of these pays one dict
lookup per key it does send.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fakeprovider.errors import ProviderError, invalid

Check = Callable[[str, Any], None]


def json_type(value: Any) -> str:
    """What OpenAI calls a JSON value's type in its messages ("a decimal", "an object", …)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object" if isinstance(value, dict) else "null"


def _wrong_type(name: str, expected: str, value: Any) -> ProviderError:
    return invalid(
        f"Invalid type for '{name}': expected {expected}, but got {json_type(value)} instead.",
        param=name,
        code="invalid_type",
    )


def _out_of_range(name: str, what: str, value: Any, lo: float | None, hi: float | None) -> ProviderError:
    above = hi is not None and value > hi
    side, sign, bound = ("above maximum", "<=", hi) if above else ("below minimum", ">=", lo)
    return invalid(
        f"Invalid '{name}': {what} {side} value. Expected a value {sign} {bound}, but got {value} instead.",
        param=name,
        code=f"{what}_{'above_max' if above else 'below_min'}_value",
    )


def decimal(lo: float, hi: float) -> Check:
    """A number (an integer will do) in [lo, hi]."""

    def check(name: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _wrong_type(name, "a decimal", value)
        if not lo <= value <= hi:
            raise _out_of_range(name, "decimal", value, lo, hi)

    return check


def integer(lo: int | None = None, hi: int | None = None) -> Check:
    """An integer (not a decimal, not a boolean), within the bounds given."""

    def check(name: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _wrong_type(name, "an integer", value)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise _out_of_range(name, "integer", value, lo, hi)

    return check


def of_type(kind: type, expected: str) -> Check:
    def check(name: str, value: Any) -> None:
        if not isinstance(value, kind):
            raise _wrong_type(name, expected, value)

    return check


def one_of(*choices: str) -> Check:
    def check(name: str, value: Any) -> None:
        if value not in choices:
            quoted = [f"'{c}'" for c in choices]
            listed = ", ".join(quoted[:-1]) + f" and {quoted[-1]}"
            raise invalid(
                f"Invalid value: '{value}'. Supported values are: {listed}.",
                param=name,
                code="invalid_value",
            )

    return check


def _stop(name: str, value: Any) -> None:
    if isinstance(value, str):
        return
    if not isinstance(value, list):
        raise _wrong_type(name, "one of a string or an array of strings", value)
    if len(value) > 4:
        raise invalid(
            f"Invalid '{name}': array too long. Expected an array with maximum length 4, "
            f"but got an array with length {len(value)} instead.",
            param=name,
            code="array_above_max_length",
        )
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise _wrong_type(f"{name}[{i}]", "a string", item)


_BOOLEAN = of_type(bool, "a boolean")

CHAT: dict[str, Check] = {
    "temperature": decimal(0, 2),
    "top_p": decimal(0, 1),
    "presence_penalty": decimal(-2, 2),
    "frequency_penalty": decimal(-2, 2),
    "n": integer(1, 128),
    "seed": integer(),
    "logprobs": _BOOLEAN,
    "top_logprobs": integer(0, 20),
    "stream": _BOOLEAN,
    "parallel_tool_calls": _BOOLEAN,
    "store": _BOOLEAN,
    "stop": _stop,
    "logit_bias": of_type(dict, "an object"),
    "user": of_type(str, "a string"),
}

EMBEDDINGS: dict[str, Check] = {
    "dimensions": integer(1),
    "encoding_format": one_of("float", "base64"),
    "user": of_type(str, "a string"),
}


def check_params(body: Mapping[str, Any], table: Mapping[str, Check]) -> None:
    """Raise the provider's 400 for the first parameter of `body` its check in `table` refuses.

    `null` is the API's "not given" for every optional parameter, so it passes.
    """
    for name, value in body.items():
        check = table.get(name)
        if check is not None and value is not None:
            check(name, value)
