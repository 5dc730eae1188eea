"""What each dialect owns besides bodies: mid-answer errors, `x-should-retry`, request-id headers."""

from __future__ import annotations

from fakeprovider.dialects import DIALECTS, by_headers
from fakeprovider.dialects.anthropic.wire import anthropic_error_json
from fakeprovider.dialects.openai_wire import openai_error_json
from fakeprovider.errors import ProviderError

OPENAI = DIALECTS["openai.chat"]
ANTHROPIC = DIALECTS["anthropic.messages"]


def test_openai_fails_mid_answer_with_a_server_error_streamed_or_not() -> None:
    for stream in (True, False):
        error = OPENAI.mid_stream_error(stream)
        assert error.status == 500
        assert openai_error_json(error)["error"]["type"] == "server_error"


def test_anthropic_fails_mid_stream_overloaded_and_a_whole_answer_with_a_500() -> None:
    assert anthropic_error_json(ANTHROPIC.mid_stream_error(True)) == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }
    assert ANTHROPIC.mid_stream_error(False).status == 500


def test_anthropic_says_whether_to_retry_and_openai_does_not() -> None:
    for status, retry in ((429, "true"), (503, "true"), (400, "false")):
        headers: dict[str, str] = {}
        ANTHROPIC.error_headers(ProviderError(status, "server", "x"), headers)
        assert headers == {"x-should-retry": retry}
    headers = {}
    OPENAI.error_headers(ProviderError(503, "server", "x"), headers)
    assert headers == {}


def test_request_ids_go_out_under_each_providers_header_names() -> None:
    assert OPENAI.request_id_headers("r1") == {"x-request-id": "r1"}
    assert ANTHROPIC.request_id_headers("r1") == {"request-id": "r1", "x-request-id": "r1"}


def test_a_request_without_a_surface_is_told_by_its_headers() -> None:
    assert by_headers({"anthropic-version": "2023-06-01"}, by_key=False) is ANTHROPIC
    assert by_headers({"x-api-key": "k"}, by_key=False) is OPENAI
    assert by_headers({"x-api-key": "k"}, by_key=True) is ANTHROPIC
    assert by_headers({}, by_key=True) is OPENAI
