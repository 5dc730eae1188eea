"""Azure requests read with no sockets: deployments, `api-version`, keys, the gateway's refusals."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest

from fakeprovider.catalogue.families import DEFAULT_CATALOGUE
from fakeprovider.dialects import DIALECTS
from fakeprovider.dialects.azure import AzureChat, AzureEmbeddings
from fakeprovider.errors import ProviderError
from fakeprovider.generation.request import Tags
from fakeprovider.scenario import CompiledScenario, ScenarioError, parse_scenario
from fakeprovider.scenario.rules import Match

CHAT = AzureChat()
EMBEDDINGS = AzureEmbeddings()
HELLO: dict[str, Any] = {"messages": [{"role": "user", "content": "hi"}]}
ON_DEPLOYMENT = {"deployment": "gpt-4o", "api-version": "2024-10-21"}


def _refusal(body: dict[str, Any], match: dict[str, str], dialect: Any = CHAT) -> tuple[int, Any]:
    with pytest.raises(ProviderError) as info:
        dialect.parse(body, DEFAULT_CATALOGUE, match)
    return info.value.status, orjson.loads(dialect.error_body(info.value))


def test_a_deployment_path_names_the_model_and_the_call_is_azure_chat() -> None:
    req = CHAT.parse(HELLO, DEFAULT_CATALOGUE, ON_DEPLOYMENT)
    assert (req.api, req.model.id, req.deployment) == ("azure.chat", "gpt-4o", "gpt-4o")


def test_a_v1_path_takes_the_deployment_from_the_body_and_needs_no_api_version() -> None:
    req = CHAT.parse({**HELLO, "model": "gpt-4o-mini"}, DEFAULT_CATALOGUE, {"version": "v1"})
    assert (req.model.id, req.deployment) == ("gpt-4o-mini", "gpt-4o-mini")


def test_a_scenario_deployment_maps_a_name_to_a_catalogue_model() -> None:
    scenario = parse_scenario("deployments: {prod-chat: gpt-4.1-mini, prod-embed: text-embedding-3-large}")
    catalogue = CompiledScenario(scenario, DEFAULT_CATALOGUE).catalogue
    req = CHAT.parse(HELLO, catalogue, {"deployment": "prod-chat", "api-version": "2024-10-21"})
    assert (req.model.id, req.deployment) == ("gpt-4.1-mini", "prod-chat")
    emb = EMBEDDINGS.parse({"input": "x"}, catalogue, {"deployment": "prod-embed", "api-version": "v"})
    assert (emb.model.id, emb.deployment) == ("text-embedding-3-large", "prod-embed")


def test_a_deployment_of_an_unknown_model_is_refused_on_load_naming_it() -> None:
    with pytest.raises(ScenarioError, match=r"deployments\.prod: unknown model 'gpt-nope-model'"):
        CompiledScenario(parse_scenario("deployments: {prod: gpt-nope-model}"), DEFAULT_CATALOGUE)


@pytest.mark.parametrize("name", ["my-deployment", "claude-sonnet-4"])
def test_an_unknown_deployment_is_a_404_deployment_not_found(name: str) -> None:
    status, body = _refusal(HELLO, {"deployment": name, "api-version": "2024-10-21"})
    assert status == 404
    assert body["error"]["code"] == "DeploymentNotFound"
    assert "deployment for this resource does not exist" in body["error"]["message"]


@pytest.mark.parametrize("match", [{"deployment": "gpt-4o"}, {}], ids=["deployment", "model-in-body"])
def test_a_path_outside_v1_without_api_version_is_a_400_in_the_gateways_shape(match: dict[str, str]) -> None:
    status, body = _refusal({**HELLO, "model": "gpt-4o"}, match)
    assert status == 400
    assert body == {
        "error": {
            "code": "MissingApiVersionParameter",
            "message": "The api-version query parameter (?api-version=) is required for all requests.",
        }
    }


def test_an_embedding_deployment_called_for_chat_is_operation_not_supported() -> None:
    status, body = _refusal(HELLO, {"deployment": "text-embedding-3-small", "api-version": "v"})
    assert (status, body["error"]["code"]) == (400, "OperationNotSupported")
    status, body = _refusal({"input": "x"}, ON_DEPLOYMENT, EMBEDDINGS)
    assert (status, body["error"]["code"]) == (400, "OperationNotSupported")


def test_a_bad_parameter_is_the_models_own_openai_shaped_400() -> None:
    status, body = _refusal({**HELLO, "temperature": 7}, ON_DEPLOYMENT)
    assert status == 400
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["param"] == "temperature"


def test_the_key_comes_from_api_key_or_a_bearer_token() -> None:
    assert CHAT.api_key({"api-key": "k1"}) == "k1"
    assert CHAT.api_key({"authorization": "Bearer tok"}) == "tok"


def test_request_ids_go_out_as_x_request_id_and_apim_request_id() -> None:
    rid = CHAT.new_request_id()
    assert CHAT.request_id_headers(rid) == {"x-request-id": rid, "apim-request-id": rid}


def test_request_ids_are_distinct_version_4_uuids() -> None:
    ids = [CHAT.new_request_id() for _ in range(1000)]  # several batches of random digits
    assert len(set(ids)) == len(ids)
    for rid in ids:
        parsed = uuid.UUID(rid)
        assert str(parsed) == rid
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)


def test_rules_match_azure_by_surface_or_as_a_family() -> None:
    assert Match(api="azure.chat").matches("azure.chat", "gpt-4o", Tags(), False)
    assert Match(api="azure").matches("azure.embeddings", None, Tags(), False)
    assert not Match(api="openai").matches("azure.chat", None, Tags(), False)
    assert "azure.chat" in DIALECTS
    assert "azure.embeddings" in DIALECTS
    with pytest.raises(ValueError, match=r"unknown api 'azure\.nope'"):
        Match(api="azure.nope")
