"""Scenario rules: what a fault rule or a quota matches, when it is active, what it does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from fakeprovider.faults import REGISTRY, FaultParams
from fakeprovider.generation.request import Tags


class Match(BaseModel):
    """Which calls a rule applies to; every given field must equal the call's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api: str | None = Field(default=None, description="a dialect's name, or its provider's")
    model: str | None = None
    route: str | None = None
    feature: str | None = None
    tenant: str | None = None
    stream: bool | None = None

    @field_validator("api")
    @classmethod
    def _known_api(cls, api: str | None) -> str | None:
        # Imported here: the dialects import the scenario's modules, this one among them.
        from fakeprovider.dialects import DIALECTS

        names = DIALECTS.names()
        known = names + sorted({name.split(".")[0] for name in names})
        if api is not None and api not in known:
            raise ValueError(f"unknown api {api!r}; expected one of: {', '.join(known)}")
        return api

    def matches(self, api: str, model: str | None, tags: Tags, stream: bool) -> bool:
        if self.api is not None and api != self.api and not api.startswith(self.api + "."):
            return False
        if self.model is not None and model != self.model:
            return False
        if self.route is not None and tags.route != self.route:
            return False
        if self.feature is not None and tags.feature != self.feature:
            return False
        if self.tenant is not None and tags.tenant != self.tenant:
            return False
        return self.stream is None or stream == self.stream


class Window(BaseModel):
    """Active from `start_s` for `duration_s` seconds on the scenario clock."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start_s: float = Field(default=0.0, ge=0)
    duration_s: float | None = Field(default=None, gt=0, description="absent: until the end")


# One member per registered kind, told apart by `kind`, so an error names the kind's own field
# (e.g. `faults.0.fault.http_error.status`).
if TYPE_CHECKING:
    FaultSpec = FaultParams
else:
    FaultSpec = Annotated[Union[tuple(cls.Params for cls in REGISTRY.values())], Field(discriminator="kind")]  # noqa: UP007


class FaultRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    match: Match = Field(default_factory=Match)
    window: Window | None = None
    probability: float = Field(default=1.0, ge=0, le=1)
    first_attempts: int | None = Field(default=None, ge=1)
    max_hits: int | None = Field(default=None, ge=1)
    fault: FaultSpec


class LimitSpec(BaseModel):
    """A quota: requests and/or tokens per minute, one bucket per value of `scope`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scope: Literal["key", "tenant", "route"]
    match: Match = Field(default_factory=Match)
    rpm: int | None = Field(default=None, ge=1)
    tpm: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _some_limit(self) -> LimitSpec:
        if self.rpm is None and self.tpm is None:
            raise ValueError("give `rpm`, `tpm` or both")
        return self
