"""Azure's content-filter annotations: `prompt_filter_results` on a completion (and on a
stream's first chunk), `content_filter_results` on each choice.

Spliced into the bytes OpenAI's renderers make rather than rebuilt from dicts: the annotations
are constants (every category `safe`, or one `filtered` when a `content_filter` fault cut the
answer), and a completion is JSON whose strings are escaped, so the choice's
`"logprobs":null,"finish_reason":` appears exactly once per choice, outside any string.
"""

from __future__ import annotations

import orjson

# The category Azure reports as filtered when a `content_filter` fault fires.
FILTERED_CATEGORY = "violence"

_SAFE = {"filtered": False, "severity": "safe"}
_CATEGORIES = ("hate", "self_harm", "sexual", "violence")


def choice_results(finish: str | None) -> dict[str, object]:
    """A choice's `content_filter_results`: one category filtered if the filter cut it."""
    results: dict[str, object] = dict.fromkeys(_CATEGORIES, _SAFE)
    results["protected_material_code"] = {"filtered": False, "detected": False}
    results["protected_material_text"] = {"filtered": False, "detected": False}
    if finish == "content_filter":
        results[FILTERED_CATEGORY] = {"filtered": True, "severity": "medium"}
    return results


PROMPT_RESULTS: list[dict[str, object]] = [
    {
        "prompt_index": 0,
        "content_filter_results": {
            **dict.fromkeys(_CATEGORIES, _SAFE),
            "jailbreak": {"filtered": False, "detected": False},
        },
    }
]
_PROMPT_RESULTS = orjson.dumps(PROMPT_RESULTS)
_CHOICE_END = b'"logprobs":null,"finish_reason":'
_SAFE_CHOICE = b'"content_filter_results":' + orjson.dumps(choice_results(None)) + b"," + _CHOICE_END
_FILTERED_CHOICE = (
    b'"content_filter_results":' + orjson.dumps(choice_results("content_filter")) + b"," + _CHOICE_END
)

# What Azure streams before the first choice: the prompt's annotations, on a chunk of no choices.
PROMPT_CHUNK = (
    b'data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":'
    + _PROMPT_RESULTS
    + b"}\n\n"
)


def annotate_choice(data: bytes, finish: str | None) -> bytes:
    """A completion or chunk with its choice's `content_filter_results` (none on a chunk of no
    choice); `finish`: the choice's finish reason, when this is the choice's last word."""
    return data.replace(_CHOICE_END, _FILTERED_CHOICE if finish == "content_filter" else _SAFE_CHOICE, 1)


def annotate_completion(body: bytes, finish: str) -> bytes:
    """A whole completion with its choice's and its prompt's filter results."""
    return annotate_choice(body, finish)[:-1] + b',"prompt_filter_results":' + _PROMPT_RESULTS + b"}"
