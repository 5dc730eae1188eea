"""Experiment files (SPEC §4) as typed models, validated whole before anything runs."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from fakeprovider.scenario.rules import FaultRule
from harness.contract import REGISTRY as CLAUSES
from harness.contract import Clause
from harness.network.spec import ToxicSpec


class FieldError(ValueError):
    """A model-level check that is about one field: `loc` (relative to the model that raised
    it) lets the error name that field's path and line instead of the model's."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RequestSpec(_Strict):
    """The request sent to the target; string values may hold `{{ templates }}`."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    path: str = Field(description="path on the target, starting with /")
    json_: Any = Field(default=None, alias="json")
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("path")
    @classmethod
    def _starts_with_slash(cls, v: str) -> str:
        if not v.startswith("/"):
            raise ValueError("must start with '/'")
        return v


class SampleApp(_Strict):
    """Options for the bundled sampleapp (`app: sample`)."""

    flaws: list[str] = Field(default_factory=list, description="known bugs to switch on (sampleapp flaws)")

    @field_validator("flaws")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        from sampleapp.flaws import KNOWN_FLAWS

        for name in v:
            if name not in KNOWN_FLAWS:
                raise ValueError(f"unknown flaw {name!r}; known: {', '.join(KNOWN_FLAWS)}")
        return v


class AppOrUrl(_Strict):
    """Where the service under test runs: the bundled sampleapp or a URL. The base of the
    `target` of experiment and routes files alike, so both refuse a bad one in the same words."""

    app: Literal["sample"] | None = None
    url: str | None = None
    sample: SampleApp = Field(default_factory=SampleApp)

    @model_validator(mode="after")
    def _app_or_url(self) -> Self:
        if (self.app is None) == (self.url is None):
            raise ValueError("give exactly one of `app: sample` or `url: http://HOST:PORT`")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise FieldError(("url",), "must start with http:// or https://")
        return self


class Target(AppOrUrl):
    request: RequestSpec
    stream: Literal[False, "sse"] = False
    timeout_s: float = Field(default=30.0, gt=0)


class ProviderSpec(_Strict):
    scenario: str | None = Field(default=None, description="scenario file, relative to the experiment")
    url: str | None = Field(default=None, description="a running `rehearse serve`")
    port: int | None = Field(default=None, ge=0, le=65535, description="fixed port for the embedded one")
    seed: int | None = None
    latency: Literal["realistic", "none"] = "realistic"

    @model_validator(mode="after")
    def _url_or_embedded(self) -> ProviderSpec:
        if self.url is not None and (self.port is not None or self.scenario is not None):
            raise FieldError(
                ("url",), "`url` names a running provider: `port` and `scenario` apply to the embedded one"
            )
        return self


class Network(_Strict):
    """A Toxiproxy proxy between the target and the provider (the target is pointed at it)."""

    toxics: list[ToxicSpec] = Field(default_factory=list, description="toxics for the whole run")
    listen_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="port the proxy listens on: where a `url:` target's model base URL points "
        "(default: `provider.port`, which the provider then gives up to the proxy)",
    )


class Load(_Strict):
    mode: Literal["open", "closed", "trace"] = "open"
    rate: float | None = Field(default=None, gt=0, description="open loop: arrivals per second")
    file: str | None = Field(
        default=None,
        description="trace: a CSV (`t_s` + template values), a ledger JSONL or a cassette directory, "
        "relative to the experiment file",
    )
    speed: float = Field(default=1.0, gt=0, description="trace: replay speed (2 = arrivals twice as fast)")
    format: Literal["auto", "csv", "ledger", "cassette"] = Field(
        default="auto", description="trace: the file's format (auto: by its name, else its content)"
    )
    arrival: Literal["constant", "poisson"] = "constant"
    concurrency: int | None = Field(default=None, ge=1, description="closed loop: requests in flight")
    duration_s: float | None = Field(default=None, gt=0)
    max_requests: int = Field(default=10_000, ge=1)
    engine: Literal["asyncio", "locust"] = "asyncio"
    users: int | None = Field(
        default=None, ge=1, description="locust: simulated users, each with one request in flight"
    )
    spawn_rate: float | None = Field(
        default=None, gt=0, description="locust: users started per second (default: all at once)"
    )
    processes: int | None = Field(
        default=None, ge=1, le=256, description="locust: processes on this machine (master/workers if > 1)"
    )

    @model_validator(mode="before")
    @classmethod
    def _locust_defaults_to_closed(cls, data: Any) -> Any:
        # Locust users are closed-loop workers: `users` and no `rate` means "this many users", as
        # locust users expect, not an open loop missing its rate.
        if (
            isinstance(data, dict)
            and data.get("engine") == "locust"
            and "mode" not in data
            and "rate" not in data
        ):
            return {**data, "mode": "closed"}
        return data

    @model_validator(mode="after")
    def _mode_fields(self) -> Load:
        if self.mode == "open" and self.rate is None:
            raise FieldError(("rate",), "open loop needs `rate` (arrivals per second)")
        self._trace_fields()
        if self.engine == "locust":
            return self._locust_fields()
        for name in ("users", "spawn_rate", "processes"):
            if getattr(self, name) is not None:
                raise FieldError((name,), "applies only to `engine: locust`")
        if self.mode == "closed" and self.concurrency is None:
            raise FieldError(("concurrency",), "closed loop needs `concurrency`")
        return self

    def _trace_fields(self) -> None:
        if self.mode != "trace":
            # Compared with the defaults, not `model_fields_set`: a dumped copy carries them all.
            for name, default in (("file", None), ("speed", 1.0), ("format", "auto")):
                if getattr(self, name) != default:
                    raise FieldError((name,), "applies only to `mode: trace`")
            return
        if self.file is None:
            raise FieldError(
                ("file",), "a trace load needs `file` (a CSV, a ledger JSONL or a cassette directory)"
            )
        for name, default in (("rate", None), ("arrival", "constant"), ("concurrency", None)):
            if getattr(self, name) != default:
                raise FieldError((name,), "a trace load takes its arrivals from `file`: leave this out")

    def _locust_fields(self) -> Load:
        # Locust users are closed-loop workers: in open (and trace) mode they share the arrivals,
        # so too few of them send late (and the lateness counts in the latency); in closed mode
        # they are the concurrency.
        if self.mode in ("open", "trace") and self.users is None:
            raise FieldError(
                ("users",), f"engine: locust in {self.mode} mode needs `users` to share the arrivals"
            )
        if self.mode == "closed":
            if self.users is None and self.concurrency is None:
                raise FieldError(("users",), "engine: locust in closed mode needs `users` (or `concurrency`)")
            if None not in (self.users, self.concurrency) and self.users != self.concurrency:
                raise FieldError(("users",), "closed loop: `users` and `concurrency` disagree; give one")
        if self.processes is not None and self.processes > self.locust_users:
            raise FieldError(("processes",), f"more processes than users ({self.locust_users})")
        return self

    @property
    def locust_users(self) -> int:
        """Locust users: `users`, or in closed mode `concurrency`."""
        return self.users or self.concurrency or 1


class PhaseFault(FaultRule):
    """A fault rule active for one phase (its window is the phase's)."""

    @model_validator(mode="after")
    def _no_window(self) -> PhaseFault:
        if self.window is not None:
            raise FieldError(("window",), "a phase fault is active for its phase: leave out `window`")
        return self


class Phase(_Strict):
    name: str = Field(min_length=1)
    duration_s: float = Field(gt=0)
    faults: list[PhaseFault] = Field(default_factory=list)
    toxics: list[ToxicSpec] = Field(default_factory=list, description="toxics for this phase only")


class ClauseSpec(BaseModel):
    """One contract clause: a mapping of its name to its parameters."""

    model_config = ConfigDict(frozen=True)

    name: str
    params: Any

    @model_validator(mode="before")
    @classmethod
    def _one_clause(cls, data: Any) -> Any:
        if isinstance(data, dict) and set(data) == {"name", "params"}:
            # The model's own form (`model_dump`, e.g. a time-scaled copy): params revalidated
            # into the clause's Params, which `build` needs.
            name, params = data["name"], data["params"]
        elif not isinstance(data, dict) or len(data) != 1:
            raise ValueError(f"a clause is a mapping with one key, one of: {', '.join(sorted(CLAUSES))}")
        else:
            ((name, params),) = data.items()
        if name not in CLAUSES:
            raise ValueError(f"unknown clause {name!r}; known: {', '.join(sorted(CLAUSES))}")
        return {"name": name, "params": CLAUSES[name].Params.model_validate(params or {})}

    def build(self) -> Clause:
        return CLAUSES[self.name](self.params)


class Experiment(_Strict):
    title: str = Field(min_length=1)
    target: Target
    provider: ProviderSpec = Field(default_factory=ProviderSpec)
    network: Network | None = None
    load: Load
    phases: list[Phase] = Field(default_factory=list)
    contract: list[ClauseSpec] = Field(default_factory=list)
    seed: int = 0

    @model_validator(mode="after")
    def _consistent(self) -> Experiment:
        names = [p.name for p in self.phases]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise FieldError(("phases", i, "name"), f"duplicate phase name {name!r}")
        self._network_consistent()
        total = sum(p.duration_s for p in self.phases)
        if self.load.duration_s is None and not self.phases:
            raise FieldError(("load", "duration_s"), "give `load.duration_s` or `phases`")
        if self.load.duration_s is not None and self.phases and abs(self.load.duration_s - total) > 1e-9:
            raise FieldError(
                ("load", "duration_s"),
                f"{self.load.duration_s:g} s but the phases add up to {total:g} s: "
                "leave one out or make them agree",
            )
        for i, clause in enumerate(self.contract):
            for field in ("phase", "baseline_phase"):
                phase = getattr(clause.params, field, None)
                if phase is not None and phase not in names:
                    raise FieldError(
                        ("contract", i, clause.name, field), f"no phase named {phase!r} (phases: {names})"
                    )
        return self

    @property
    def uses_network(self) -> bool:
        return self.network is not None or any(p.toxics for p in self.phases)

    def _network_consistent(self) -> None:
        if not self.uses_network:
            return
        listen = self.network.listen_port if self.network is not None else None
        if self.target.app is None and listen is None and self.provider.port is None:
            raise FieldError(
                ("network", "listen_port"),
                "a `url:` target must call the provider through the proxy: give `network.listen_port` "
                "(or `provider.port`), the port your service's model base URL points at",
            )
        if self.load.engine == "locust":
            for i, phase in enumerate(self.phases):
                if phase.toxics:
                    raise FieldError(
                        ("phases", i, "toxics"),
                        "phase toxics need the asyncio engine (locust starts its load on its own clock): "
                        "put them under `network.toxics` for the whole run",
                    )
        whole_run = [t.toxic_name for t in self.network.toxics] if self.network is not None else []
        for j, name in enumerate(whole_run):
            if name in whole_run[:j]:
                raise FieldError(
                    ("network", "toxics", j, "name"), f"two toxics named {name!r}: give one another `name`"
                )
        for i, phase in enumerate(self.phases):
            seen = list(whole_run)
            for j, toxic in enumerate(phase.toxics):
                if toxic.toxic_name in seen:
                    raise FieldError(
                        ("phases", i, "toxics", j, "name"),
                        f"a toxic named {toxic.toxic_name!r} is already on the proxy in this phase: "
                        "give it another `name`",
                    )
                seen.append(toxic.toxic_name)

    @property
    def duration_s(self) -> float:
        if self.load.duration_s is not None:
            return self.load.duration_s
        return sum(p.duration_s for p in self.phases)
