"""A proxy's toxics: one chain per direction, in the order added, applied to live links.

Toxiproxy's `ToxicCollection`: creating, updating and removing toxics from API bodies (same
defaults, same checks in the same order, same errors), and fanning each change out to every
open connection of the proxy.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from pydantic import ValidationError

from harness.network.errors import (
    bad_request_body,
    invalid_stream,
    invalid_toxic_type,
    toxic_already_exists,
    toxic_not_found,
)
from harness.network.link import Link
from harness.network.toxics import Direction, Toxic, ToxicWrapper, toxic_class
from harness.network.wire import ToxicBody, decode_object, describe


def build_toxic(cls: type[Toxic], attributes: dict[str, Any]) -> Toxic:
    """The typed toxic from an `attributes` object; `null` values keep the defaults, as in Go."""
    given = {k: v for k, v in attributes.items() if v is not None}
    try:
        return cls.model_validate(given)
    except ValidationError as e:
        raise bad_request_body(describe(e, "attributes")) from None


class ToxicChain:
    """A proxy's toxics and the live links they act on."""

    def __init__(self) -> None:
        self._chains: dict[Direction, list[ToxicWrapper]] = {d: [] for d in Direction}
        self._links: dict[Direction, set[Link]] = {d: set() for d in Direction}
        # Changes wait on live connections; one at a time, as Toxiproxy's collection mutex.
        self._lock = asyncio.Lock()

    def toxics(self) -> list[ToxicWrapper]:
        """Upstream toxics then downstream ones, each in the order added (Toxiproxy's order)."""
        return [w for d in Direction for w in self._chains[d]]

    def to_json(self) -> list[dict[str, Any]]:
        return [w.to_json() for w in self.toxics()]

    def find(self, name: str) -> ToxicWrapper | None:
        return next((w for w in self.toxics() if w.name == name), None)

    def get(self, name: str) -> ToxicWrapper:
        wrapper = self.find(name)
        if wrapper is None:
            raise toxic_not_found()
        return wrapper

    def attach(self, link: Link) -> None:
        """A new connection's link starts with the toxics in force and follows later changes."""
        for wrapper in self._chains[link.direction]:
            link.add(wrapper)
        self._links[link.direction].add(link)

    def detach(self, link: Link) -> None:
        self._links[link.direction].discard(link)

    def links(self) -> int:
        return sum(len(links) for links in self._links.values())

    async def add(self, body: bytes) -> ToxicWrapper:
        fields = decode_object(body, ToxicBody)
        stream = "downstream" if fields.stream is None else fields.stream
        direction = Direction.parse(stream)
        if direction is None:
            raise invalid_stream()
        kind = fields.type or ""
        name = fields.name or f"{kind}_{stream}"
        cls = toxic_class(kind)
        if cls is None:
            raise invalid_toxic_type()
        async with self._lock:
            if self.find(name) is not None:
                raise toxic_already_exists()
            toxic = build_toxic(cls, fields.attributes or {})
            toxicity = 1.0 if fields.toxicity is None else fields.toxicity
            wrapper = ToxicWrapper(name, kind, stream, toxicity, toxic, direction)
            self._chains[direction].append(wrapper)
            for link in list(self._links[direction]):
                link.add(wrapper)
        return wrapper

    async def update(self, name: str, body: bytes) -> ToxicWrapper:
        """Only `attributes` (merged into the current ones) and `toxicity` change, as in Go."""
        async with self._lock:
            old = self.get(name)
            fields = decode_object(body, ToxicBody)
            merged = {**old.toxic.model_dump(), **(fields.attributes or {})}
            toxic = build_toxic(type(old.toxic), merged)
            toxicity = old.toxicity if fields.toxicity is None else fields.toxicity
            new = dataclasses.replace(old, toxic=toxic, toxicity=toxicity)
            chain = self._chains[old.direction]
            chain[chain.index(old)] = new
            await asyncio.gather(*(link.update(new) for link in list(self._links[old.direction])))
        return new

    async def remove(self, name: str) -> None:
        async with self._lock:
            await self._remove(self.get(name))

    async def reset(self) -> None:
        async with self._lock:
            for wrapper in self.toxics():
                await self._remove(wrapper)

    async def _remove(self, wrapper: ToxicWrapper) -> None:
        self._chains[wrapper.direction].remove(wrapper)
        links = list(self._links[wrapper.direction])
        await asyncio.gather(*(link.remove(wrapper.name) for link in links))
