"""The events a plan is made of: text pieces, tool-call starts and tool-argument pieces.

Events are frozen values: content pools build the text pieces of their sentences once and every
plan shares them, so a fault that rewrites a plan builds new events and never edits one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str
    tokens: int


@dataclass(frozen=True, slots=True)
class ToolCallStart:
    index: int
    call_id: str
    name: str
    tokens: ClassVar[int] = 0  # the call's name and id are not billed as output


@dataclass(frozen=True, slots=True)
class ToolArgsDelta:
    index: int
    text: str
    tokens: int


Event = TextDelta | ToolCallStart | ToolArgsDelta
