"""Azure OpenAI: `POST /openai/deployments/{deployment}/chat/completions?api-version=…` (and
`…/embeddings`), the same under `/openai/v1/` with the deployment as the body's `model`, and the
Responses API at `/openai/responses?api-version=…` and `/openai/v1/responses`.

OpenAI's dialects with Azure's gateway in front (`wire`): a deployment names the model (the
scenario's `deployments:`, else a model id), `api-version` is required outside `/openai/v1/`,
the gateway's errors have its own shape, and chat answers carry content-filter results
(`filters`); `surfaces` puts each together.
"""

from __future__ import annotations

from fakeprovider.dialects.azure.surfaces import AzureChat, AzureEmbeddings, AzureResponses

__all__ = ["RESPONSES_PATHS", "ROUTES", "AzureChat", "AzureEmbeddings", "AzureResponses"]

# (path, dialect name): the routes `app.py` registers. `{version:v1}` matches only `v1` and puts
# it in the dialect's `match`: the v1 API is the one that needs no `api-version`.
ROUTES: tuple[tuple[str, str], ...] = (
    ("/openai/deployments/{deployment}/chat/completions", AzureChat.api),
    ("/openai/deployments/{deployment}/embeddings", AzureEmbeddings.api),
    ("/openai/{version:v1}/chat/completions", AzureChat.api),
    ("/openai/{version:v1}/embeddings", AzureEmbeddings.api),
)
# The Responses API's paths (`POST`, and the stored responses under them): `app.py` serves them
# with an `AzureResponses` holding the state's response store.
RESPONSES_PATHS = ("/openai/responses", "/openai/{version:v1}/responses")
