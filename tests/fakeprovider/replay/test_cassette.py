"""The cassette format: written, read back, matched, redacted, and refused when wrong."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from fakeprovider.replay.cassette import (
    REDACTED,
    Cassette,
    CassetteError,
    CassetteWriter,
    Exchange,
    RecordedEvent,
    RecordedRequest,
    RecordedResponse,
    match_key,
    read_exchange,
    redact_headers,
    redact_query,
)


def _exchange(body: dict[str, object], *, stream: bool = True) -> Exchange:
    events = (
        RecordedEvent(120.5, None, {"choices": [{"delta": {"content": "Hi"}}]}),
        RecordedEvent(130.0, None, "[DONE]"),
        RecordedEvent(131.0, comment="keep-alive"),
    )
    return Exchange(
        "openai.chat",
        "gpt-4o-mini",
        stream,
        RecordedRequest("POST", "/v1/chat/completions", {}, {"content-type": "application/json"}, body),
        RecordedResponse(200, {"content-type": "text/event-stream"}, events=events, end_ms=131.5),
        "2026-12-07T19:30:00.000Z",
    )


def test_written_and_read_back_alike(tmp_path: Path) -> None:
    writer = CassetteWriter(tmp_path)
    x = _exchange({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "stream": True})
    path = writer.write(x)
    assert path.name.startswith("000001-openai.chat-gpt-4o-mini-")
    back = read_exchange(path)
    assert back.request == x.request
    assert back.response == x.response
    assert back.key == match_key(x.api, x.model, x.stream, x.request.body)
    # Pretty-printed, one value per line: diffs stay small.
    assert path.read_text().count("\n") > 20
    # A second writer numbers on from what the directory holds.
    assert CassetteWriter(tmp_path).write(x).name.startswith("000002-")
    cassette = Cassette.load(tmp_path)
    assert len(cassette.exchanges) == 2
    assert len(cassette.by_key[back.key]) == 2


def test_match_key_ignores_listed_fields_and_key_order() -> None:
    a = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "user": "u1", "metadata": {"a": 1}}
    b = {
        "messages": [{"content": "hi", "role": "user"}],
        "model": "m",
        "stream_options": {"include_usage": True},
    }
    assert match_key("openai.chat", "m", False, a) == match_key("openai.chat", "m", False, b)
    assert match_key("openai.chat", "m", False, a) != match_key("openai.chat", "m", True, a)
    assert match_key("openai.chat", "m", False, a) != match_key("anthropic.messages", "m", False, a)
    c = {**a, "temperature": 0.5}
    assert match_key("openai.chat", "m", False, a) != match_key("openai.chat", "m", False, c)


def test_secrets_redacted() -> None:
    headers = redact_headers(
        {
            "Authorization": "Bearer sk-1",
            "api-key": "k",
            "X-Goog-Api-Key": "g",
            "X-Session-Token": "t",
            "Accept": "*/*",
        }
    )
    assert headers == {
        "authorization": REDACTED,
        "api-key": REDACTED,
        "x-goog-api-key": REDACTED,
        "x-session-token": REDACTED,
        "accept": "*/*",
    }
    assert redact_query({"key": "AIza", "alt": "sse"}) == {"key": REDACTED, "alt": "sse"}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(rehearsal_cassette=7), "rehearsal_cassette: expected 1, got 7"),
        (lambda d: d.pop("api"), "api: expected a string"),
        (lambda d: d["response"].update(status=42), "response.status: expected an HTTP status"),
        (
            lambda d: d["response"]["events"][1].update(t_ms=-1),
            "response.events.1.t_ms: expected a number >= 0",
        ),
        (lambda d: d["request"].update(headers={"a": 1}), "request.headers: expected an object of strings"),
    ],
)
def test_bad_files_named_with_the_field(tmp_path: Path, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    path = CassetteWriter(tmp_path).write(_exchange({"model": "m"}))
    data = orjson.loads(path.read_bytes())
    edit(data)
    path.write_bytes(orjson.dumps(data))
    with pytest.raises(CassetteError) as e:
        read_exchange(path)
    assert str(e.value) == f"{path}: {message}"


def test_not_json_and_missing_directory(tmp_path: Path) -> None:
    (tmp_path / "000001-x.json").write_text("{not json")
    with pytest.raises(CassetteError, match=r"000001-x\.json: not JSON"):
        Cassette.load(tmp_path)
    with pytest.raises(CassetteError, match="no such cassette directory"):
        Cassette.load(tmp_path / "absent")
