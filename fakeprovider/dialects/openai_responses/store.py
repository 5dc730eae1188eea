"""The Responses API's response store: what `previous_response_id`, `GET` and `DELETE` read.

Bounded by construction: the newest `max_responses` responses are kept (10,000 by default,
`ProviderConfig.responses_store_max`), the oldest forgotten first, as a caller can grow it
without end. A turn keeps its own items only (not the whole conversation), so a long chain
costs one turn per stored response; a chain whose older turns were forgotten is read as far
back as it is still held.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

DEFAULT_MAX_RESPONSES = 10_000


@dataclass(frozen=True, slots=True)
class Turn:
    """One conversation item a later turn sees again: role and text, as the prompt counts it."""

    role: str
    text: str
    images: int = 0


@dataclass(slots=True)
class StoredResponse:
    """One stored response: the JSON `GET` answers with, and the items a chain continues from.
    Its answer is kept as given and made into items only when a later turn reads it (most
    stored responses are never continued)."""

    body: bytes
    previous_id: str | None
    items: tuple[Turn, ...]  # this turn's input items
    call_ids: frozenset[str]  # the function calls its input showed
    text: str = ""  # its answer: text, or the function calls (call id, name, arguments)
    calls: tuple[tuple[str, str, str], ...] = ()

    def turns(self) -> list[Turn]:
        """This turn's items as a later turn's prompt sees them: input, then the answer."""
        said = [Turn("assistant", f"{name}({args})") for _, name, args in self.calls]
        return [*self.items, *(said or [Turn("assistant", self.text)])]


class ResponseStore:
    def __init__(self, max_responses: int = DEFAULT_MAX_RESPONSES) -> None:
        self.max_responses = max_responses
        # Not a dict: forgetting a dict's oldest key scans the deleted slots before it, about
        # 16 µs a call once full (a tenth of a whole `responses` benchmark request).
        self._responses: OrderedDict[str, StoredResponse] = OrderedDict()

    def __len__(self) -> int:
        return len(self._responses)

    def put(self, response_id: str, stored: StoredResponse) -> None:
        responses = self._responses
        responses[response_id] = stored
        while len(responses) > self.max_responses:
            responses.popitem(last=False)  # the oldest

    def get(self, response_id: str) -> StoredResponse | None:
        return self._responses.get(response_id)

    def delete(self, response_id: str) -> bool:
        return self._responses.pop(response_id, None) is not None

    def clear(self) -> None:
        self._responses.clear()

    def chain(self, response_id: str) -> tuple[list[Turn], set[str]]:
        """The items of the conversation ending with `response_id`, oldest first, and the call
        ids asked for along it; `response_id` itself must be held (`get` first)."""
        turns: list[list[Turn]] = []
        calls: set[str] = set()
        seen: set[str] = set()
        current: str | None = response_id
        while current is not None and current not in seen:
            seen.add(current)  # a loop cannot be built through the API, but costs nothing to stop
            stored = self._responses.get(current)
            if stored is None:
                break
            turns.append(stored.turns())
            calls |= stored.call_ids
            calls.update(call_id for call_id, _, _ in stored.calls)
            current = stored.previous_id
        return [item for turn in reversed(turns) for item in turn], calls
