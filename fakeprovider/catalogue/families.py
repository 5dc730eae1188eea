"""The model catalogue: the built-in table plus family resolution.

Ids not listed resolve through family rules (a dated id to its base, a new minor version to its
family), so a new SDK release does not break users. Claude ids must also be spelt as Anthropic
spells them (`claude-<tier>-<version>`, `claude-<version>-<tier>`, a date, `-latest`,
`-preview`): a typo such as `claude-nope` or `claude-3-opus-nonsense` is unknown, as upstream.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace

from fakeprovider.catalogue.info import Api, Kind, ModelInfo, ModelOverride
from fakeprovider.catalogue.table import BUILT_IN_MODELS

__all__ = ["DEFAULT_CATALOGUE", "Api", "Catalogue", "Kind", "ModelInfo", "ModelOverride"]

_DATE_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$")
# A Claude id without its date: a tier (or family name) and a version in either order.
_CLAUDE_TIERS = "haiku|sonnet|opus|fable|mythos"
_CLAUDE_ID = re.compile(
    rf"claude-(?:\d+(?:-\d+)?-(?:{_CLAUDE_TIERS})|(?:{_CLAUDE_TIERS})(?:-\d+){{0,2}})(?:-latest|-preview)?"
)

# Ordered family rules: (pattern on the undated id, catalogue base id).
_FAMILIES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), base)
    for p, base in (
        (r"^gpt-3\.5-turbo", "gpt-3.5-turbo"),
        (r"^gpt-4-32k", "gpt-4-32k"),
        (r"^gpt-4-(turbo|\d{4}-preview|1106|vision)", "gpt-4-turbo"),
        (r"^gpt-4(-\d{4})?$", "gpt-4"),
        (r"^(chatgpt-)?gpt-4o-mini|^gpt-audio-mini|^gpt-4o-mini", "gpt-4o-mini"),
        (r"^(chatgpt-)?(gpt-)?4o|^gpt-4o|^gpt-audio|^chatgpt-4o", "gpt-4o"),
        (r"^gpt-4\.\d+-nano", "gpt-4.1-nano"),
        (r"^gpt-4\.\d+-mini", "gpt-4.1-mini"),
        (r"^gpt-4\.\d+", "gpt-4.1"),
        (r"^o1-mini", "o1-mini"),
        (r"^o1", "o1"),
        (r"^o\d+-mini|^codex-mini", "o4-mini"),
        (r"^o\d+", "o3"),
        (r"^gpt-\d+(\.\d+)?(-[a-z]+)*-nano", "gpt-5-nano"),
        (r"^gpt-\d+(\.\d+)?(-[a-z]+)*-mini", "gpt-5-mini"),
        (r"^gpt-\d+(\.\d+)?(-[a-z]+)*-pro", "gpt-5-pro"),
        (r"^gpt-([5-9]|\d{2,})(\.\d+)?(-[a-z0-9]+)*$", "gpt-5"),
        (r"^text-embedding-3-large", "text-embedding-3-large"),
        (r"^text-embedding-", "text-embedding-3-small"),
        (r"^claude-3-haiku", "claude-3-haiku"),
        (r"^claude-3-[57]-haiku|^claude-haiku-(3|4-[0-4]$)", "claude-3-5-haiku"),
        (r"^claude-(haiku|3-5-haiku)", "claude-haiku-4-5"),
        (r"^claude-(3-opus|opus-4(-[01])?$)", "claude-opus-4"),
        (r"^claude-opus", "claude-opus-4-5"),
        # Sonnet, and new Claude families whose tier the id does not say: the mid tier.
        (r"^claude-", "claude-sonnet-4"),
        # Gemini: a dated, numbered or preview id to its version's tier; a new version to its tier.
        (r"^gemini-.*embedding", "gemini-embedding-001"),
        (r"^gemini-2\.0-flash-lite", "gemini-2.0-flash-lite"),
        (r"^gemini-2\.0-flash", "gemini-2.0-flash"),
        (r"^gemini-.*flash-lite", "gemini-2.5-flash-lite"),
        (r"^gemini-.*flash", "gemini-2.5-flash"),
        (r"^gemini-3", "gemini-3-pro-preview"),
        (r"^gemini-", "gemini-2.5-pro"),
    )
)


class Catalogue:
    """Known models plus family rules; `resolve` answers an id as the provider would."""

    def __init__(self, models: Iterable[ModelInfo] = BUILT_IN_MODELS) -> None:
        self._models: dict[str, ModelInfo] = {m.id: m for m in models}
        self._resolved: dict[str, ModelInfo | None] = {}
        self._deployments: dict[str, str] = {}

    def __contains__(self, model_id: str) -> bool:
        return self.resolve(model_id) is not None

    def ids(self) -> list[str]:
        return sorted(self._models)

    def models(self) -> list[ModelInfo]:
        return [self._models[i] for i in self.ids()]

    def resolve(self, model_id: str) -> ModelInfo | None:
        """The model answering for `model_id` (its own id kept), or None when unknown."""
        try:
            return self._resolved[model_id]
        except KeyError:
            pass
        found = self._lookup(model_id)
        info = None if found is None else replace(found, id=model_id)
        if len(self._resolved) < 10_000:
            self._resolved[model_id] = info
        return info

    def _lookup(self, model_id: str) -> ModelInfo | None:
        if model_id in self._models:
            return self._models[model_id]
        undated = _DATE_SUFFIX.sub("", model_id)
        if undated in self._models:
            return self._models[undated]
        if undated.startswith("claude-") and not _CLAUDE_ID.fullmatch(undated):
            return None
        for pattern, base in _FAMILIES:
            if pattern.search(undated):
                return self._models[base]
        return None

    def deployment(self, name: str, api: str) -> ModelInfo | None:
        """The model a deployment serves, for surfaces that address models by deployment name:
        the scenario's `deployments:` first, else a model of `api` whose id the name is."""
        model_id = self._deployments.get(name)
        if model_id is not None:
            return self.resolve(model_id)
        info = self.resolve(name)
        return info if info is not None and info.api == api else None

    def with_deployments(self, deployments: Mapping[str, str]) -> Catalogue:
        """This catalogue with named deployments (deployment name -> model id) added."""
        for name, model_id in deployments.items():
            if self.resolve(model_id) is None:
                raise ValueError(f"deployments.{name}: unknown model {model_id!r}")
        if not deployments:
            return self
        catalogue = Catalogue(self._models.values())
        catalogue._deployments = dict(deployments)
        return catalogue

    def with_overrides(self, overrides: Mapping[str, ModelOverride]) -> Catalogue:
        """A new catalogue with scenario-file models added or changed."""
        models = dict(self._models)
        for model_id, o in overrides.items():
            if o.like is not None:
                # Models added earlier in the same scenario may be named too.
                start = models.get(o.like) or self.resolve(o.like)
                if start is None:
                    raise ValueError(f"models.{model_id}.like: unknown model {o.like!r}")
            else:
                start = models.get(model_id) or self.resolve(model_id)
            if start is None:
                if o.api is None:
                    raise ValueError(
                        f"models.{model_id}: unknown model; give `api` (openai|anthropic|google) "
                        "or `like: <known model>`"
                    )
                start = ModelInfo(id=model_id, api=o.api)
            changes = o.model_dump(exclude_none=True, exclude={"like", "ttft", "itl"})
            if o.ttft is not None:
                changes["ttft"] = o.ttft.fitted()
            if o.itl is not None:
                changes["itl"] = o.itl.fitted()
            models[model_id] = replace(start, id=model_id, **changes)
        return Catalogue(models.values())


DEFAULT_CATALOGUE = Catalogue()
