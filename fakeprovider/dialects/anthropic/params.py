"""Anthropic's checks of a messages request's sampling parameters, as one table.

Anthropic's ranges differ from OpenAI's (`temperature` is [0, 1]) and so do its words: the
message names the field first (`temperature: range: 0..1`), in the error shape of
`errors.py`. Walked as OpenAI's table is (`openai_params.check_params`), so a request that
sends none of these pays one dict lookup per key it sends.
"""

from __future__ import annotations

from typing import Any

from fakeprovider.dialects.openai_params import Check
from fakeprovider.errors import invalid


def _number(lo: float, hi: float) -> Check:
    def check(name: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise invalid(f"{name}: Input should be a valid number", param=name)
        if not lo <= value <= hi:
            raise invalid(f"{name}: range: {lo}..{hi}", param=name)

    return check


def _integer(lo: int) -> Check:
    def check(name: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(f"{name}: Input should be a valid integer", param=name)
        if value < lo:
            raise invalid(f"{name}: Input should be greater than or equal to {lo}", param=name)

    return check


def _boolean(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise invalid(f"{name}: Input should be a valid boolean", param=name)


def _stop_sequences(name: str, value: Any) -> None:
    if not isinstance(value, list):
        raise invalid(f"{name}: Input should be a valid list", param=name)
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise invalid(f"{name}.{i}: Input should be a valid string", param=name)


MESSAGES: dict[str, Check] = {
    "max_tokens": _integer(1),
    "temperature": _number(0, 1),
    "top_p": _number(0, 1),
    "top_k": _integer(0),
    "stream": _boolean,
    "stop_sequences": _stop_sequences,
}
