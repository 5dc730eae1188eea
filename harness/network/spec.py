"""A toxic as an experiment (or a test) asks for it, checked before anything runs."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from harness.network.toxics import toxic_class, toxic_types
from harness.network.wire import describe


class ToxicSpec(BaseModel):
    """`{type, attributes, stream, toxicity, name}` with the attributes validated for the type
    (the same rules the embedded server applies), so a typo fails at load, not mid-run."""

    model_config = ConfigDict(extra="forbid")

    type: str
    attributes: dict[str, Any] = Field(default_factory=dict)
    stream: Literal["upstream", "downstream"] = "downstream"
    toxicity: float = Field(1.0, ge=0.0, le=1.0)
    name: str | None = None

    @model_validator(mode="after")
    def _known_type_and_attributes(self) -> Self:
        cls = toxic_class(self.type)
        if cls is None:
            raise ValueError(f"unknown toxic type {self.type!r}; known: {', '.join(toxic_types())}")
        # The server ignores unknown keys (as Go does); a file should not hide a typo that way.
        unknown = sorted(set(self.attributes) - set(cls.model_fields))
        if unknown:
            expected = ", ".join(sorted(cls.model_fields)) or "none"
            raise ValueError(
                f"attributes.{unknown[0]}: not an attribute of {self.type} (expected: {expected})"
            )
        try:
            cls.model_validate(self.attributes)
        except ValidationError as e:
            raise ValueError(describe(e, "attributes")) from None
        return self

    @property
    def toxic_name(self) -> str:
        """The name the server gives it: `name`, else Toxiproxy's `<type>_<stream>`."""
        return self.name or f"{self.type}_{self.stream}"

    def to_api(self) -> dict[str, Any]:
        """The body of `POST /proxies/{proxy}/toxics` (also `Proxy.add_toxic(**spec.to_api())`)."""
        return {
            "name": self.toxic_name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": self.toxicity,
            "attributes": dict(self.attributes),
        }
