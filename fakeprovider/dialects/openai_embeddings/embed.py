"""Reading an embeddings request and computing its vectors: deterministic per text, model,
dimensions and seed."""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from collections.abc import Mapping
from typing import Any

from fakeprovider.catalogue.families import Catalogue
from fakeprovider.dialects.base import EmbeddingRequest
from fakeprovider.dialects.common import optional, positive_int, require
from fakeprovider.dialects.openai_params import EMBEDDINGS, check_params
from fakeprovider.errors import invalid, model_not_found
from fakeprovider.generation import tokens


def parse(body: Mapping[str, Any], catalogue: Catalogue) -> EmbeddingRequest:
    check_params(body, EMBEDDINGS)
    model_id = require(body, "model", str, "a string")
    raw = require(body, "input", (str, list), "a string or an array")
    info = catalogue.resolve(model_id)
    if info is None or info.kind != "embedding":
        raise model_not_found(model_id)
    inputs: list[str | list[int]]
    if isinstance(raw, str):
        inputs = [raw]
    elif raw and all(isinstance(x, int) and not isinstance(x, bool) for x in raw):
        inputs = [list(raw)]
    else:
        inputs = []
        for i, item in enumerate(raw):
            ok = isinstance(item, str) or (
                isinstance(item, list) and all(isinstance(x, int) and not isinstance(x, bool) for x in item)
            )
            if not ok:
                raise invalid(
                    f"Invalid type for 'input[{i}]': expected a string or an array of integers.",
                    param="input",
                )
            inputs.append(item)
    if not inputs or any(len(x) == 0 for x in inputs):
        raise invalid("'$.input' is invalid. Please check the API reference.", param="input")
    if len(inputs) > 2048:
        raise invalid("'$.input' must have at most 2048 items.", param="input")
    dims = positive_int(body, "dimensions") or info.dimensions
    if dims > info.dimensions:
        raise invalid(
            f"This model does not support specifying dimensions above {info.dimensions}.",
            param="dimensions",
        )
    fmt = optional(body, "encoding_format", str, "a string") or "float"
    if fmt not in ("float", "base64"):
        raise invalid(
            "Invalid value for 'encoding_format': expected 'float' or 'base64'.",
            param="encoding_format",
        )
    enc = tokens.encoding(info.encoding)
    n_tokens = 0
    keys: list[bytes] = []
    for i, x in enumerate(inputs):
        keys.append(_key(x, enc, i))
        n = len(x) if isinstance(x, list) else len(enc.encode_ordinary(x))
        if n > info.context_window:
            raise invalid(
                f"This model's maximum context length is {info.context_window} tokens, however you "
                f"requested {n} tokens. Please reduce your prompt.",
                param="input",
                code="context_length_exceeded",
            )
        n_tokens += n
    return EmbeddingRequest(info, keys, dims, fmt == "base64", n_tokens)


def vector(key: bytes, model: str, dims: int, seed: int) -> list[float]:
    """A unit vector (float32 values) that depends only on the input, model, dimensions and seed.

    A shortened vector is the full one cut to `dims` and renormalised, as with the real models
    (shake-256 is extendable: a shorter digest is a prefix of the longer one).
    """
    digest = hashlib.shake_256(b"%d\x00%s\x00%s" % (seed, model.encode(), key)).digest(dims * 4)
    raw = struct.unpack(f"<{dims}I", digest)
    values = [v / 2147483647.5 - 1.0 for v in raw]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    # Rounded to float32, as the real API serves them, so `float` and `base64` agree exactly.
    return list(struct.unpack(f"<{dims}f", struct.pack(f"<{dims}f", *(v / norm for v in values))))


def _key(item: str | list[int], enc: tokens.Encoding, index: int) -> bytes:
    """What the model sees: token ids and the text they decode to embed alike."""
    if isinstance(item, str):
        return item.encode()
    try:
        if min(item) < 0:
            raise KeyError(min(item))
        return b"".join(enc.decode_single_token_bytes(t) for t in item)
    except KeyError:
        raise invalid(
            f"Invalid token id in 'input[{index}]': not a token of {enc.name}.", param="input"
        ) from None


def render(req: EmbeddingRequest, seed: int) -> dict[str, Any]:
    data = []
    for i, key in enumerate(req.inputs):
        vec = vector(key, req.model.id, req.dimensions, seed)
        embedding: Any = base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode() if req.base64 else vec
        data.append({"object": "embedding", "index": i, "embedding": embedding})
    return {
        "object": "list",
        "data": data,
        "model": req.model.id,
        "usage": {"prompt_tokens": req.input_tokens, "total_tokens": req.input_tokens},
    }
