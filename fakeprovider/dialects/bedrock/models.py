"""Bedrock model ids (`anthropic.claude-3-5-sonnet-20240620-v1:0`, `amazon.nova-pro-v1:0`,
`meta.llama3-1-70b-instruct-v1:0`, cross-region `us.`/`eu.`/`apac.` profiles, and ARNs of
either) mapped onto catalogue models.

Apart from the request reader because the mapping is Bedrock's naming scheme, not its wire
format: strip the ARN, the inference profile's region, the provider and the version suffix,
and what is left is a catalogue id (`claude-3-5-sonnet-20240620`, `nova-pro`). The id the
caller gave stays the model's id, so the ledger and scenario rules see Bedrock's name.
"""

from __future__ import annotations

import re
from dataclasses import replace

from fakeprovider.catalogue.families import Catalogue
from fakeprovider.catalogue.info import ModelInfo

# Inference profiles name the geography they route within: `us.`, `eu.`, `apac.`, `global.`…
_REGION = re.compile(r"^(?:us|us-gov|eu|apac|jp|au|ca|global)\.")
# `-v1:0`, `-v2:0`, `-v1:0:200k` (a context-window variant), `-v1`
_VERSION = re.compile(r"-v\d+(?::\d+)?(?::[0-9a-z]+)?$")
# Which catalogue models each Bedrock provider prefix may name.
_PROVIDERS: dict[str, str] = {"anthropic": "anthropic", "amazon": "bedrock", "meta": "bedrock"}


def catalogue_id(model_id: str) -> tuple[str, str] | None:
    """(catalogue id, catalogue api) a Bedrock model id names, or None if it is not one."""
    name = model_id.rsplit("/", 1)[-1] if model_id.startswith("arn:") else model_id
    name = _REGION.sub("", name, count=1)
    provider, dot, rest = name.partition(".")
    api = _PROVIDERS.get(provider)
    if not dot or api is None:
        return None
    return _VERSION.sub("", rest, count=1), api


def resolve(catalogue: Catalogue, model_id: str) -> ModelInfo | None:
    """The chat model answering for Bedrock's `model_id` (its id kept), or None when unknown.

    A model the scenario defines under the Bedrock id itself (`api: bedrock`) comes first."""
    info = catalogue.resolve(model_id)
    if info is not None and info.api == "bedrock":
        return info if info.kind == "chat" else None
    named = catalogue_id(model_id)
    if named is None:
        return None
    info = catalogue.resolve(named[0])
    if info is None or info.api != named[1] or info.kind != "chat":
        return None
    return replace(info, id=model_id)
