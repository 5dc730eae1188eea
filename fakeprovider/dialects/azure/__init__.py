"""Azure OpenAI: `POST /openai/deployments/{deployment}/chat/completions?api-version=…` (and
`…/embeddings`), and the same under `/openai/v1/` with the deployment as the body's `model`.

OpenAI's dialects with Azure's gateway in front (`wire`): a deployment names the model (the
scenario's `deployments:`, else a model id), `api-version` is required outside `/openai/v1/`,
the gateway's errors have its own shape, and chat answers carry content-filter results
(`filters`); `surfaces` puts each together.
"""

from __future__ import annotations

from fakeprovider.dialects.azure.surfaces import AzureChat, AzureEmbeddings

__all__ = ["ROUTES", "AzureChat", "AzureEmbeddings"]

# (path, dialect name): the routes `app.py` registers. `{version:v1}` matches only `v1` and puts
# it in the dialect's `match`: the v1 API is the one that needs no `api-version`. A later Azure
# surface (Responses) is one more dialect here and its paths.
ROUTES: tuple[tuple[str, str], ...] = (
    ("/openai/deployments/{deployment}/chat/completions", AzureChat.api),
    ("/openai/deployments/{deployment}/embeddings", AzureEmbeddings.api),
    ("/openai/{version:v1}/chat/completions", AzureChat.api),
    ("/openai/{version:v1}/embeddings", AzureEmbeddings.api),
)
