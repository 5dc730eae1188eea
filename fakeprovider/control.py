"""The control API (`/control/...`) and `/metrics`.

Loopback callers only, unless the server was given a bearer token; with a token, every control
call must carry it.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from fakeprovider.metrics import CONTENT_TYPE
from fakeprovider.scenario import ScenarioError, parse_scenario, scenario_json
from fakeprovider.state import ProviderState

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(data: object, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(data), content_type="application/json")


def _problem(status: int, message: str) -> web.Response:
    return _json({"error": {"status": status, "message": message}}, status)


def _is_loopback(peer: str | None) -> bool:
    if peer is None:
        return False
    try:
        return ipaddress.ip_address(peer.split("%")[0]).is_loopback
    except ValueError:
        return peer == "localhost"


def guarded(state: ProviderState, handler: Handler) -> Handler:
    """Apply the control API's access rule to one handler."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        token = state.config.control_token
        if token is not None:
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return _problem(401, "control API: missing or wrong bearer token")
        elif not _is_loopback(request.remote):
            return _problem(
                403,
                "control API answers loopback callers only (start with --control-token to open it)",
            )
        return await handler(request)

    return wrapper


def add_routes(app: web.Application, state: ProviderState) -> None:
    async def health(request: web.Request) -> web.Response:
        return _json(
            {
                "status": "ok",
                "seed": state.seed,
                "latency": state.config.latency,
                "ledger_seq": state.ledger.last_seq,
            }
        )

    async def get_scenario(request: web.Request) -> web.Response:
        return web.Response(body=scenario_json(state.scenario.scenario), content_type="application/json")

    async def put_scenario(request: web.Request) -> web.Response:
        text = await request.read()
        try:
            scenario = parse_scenario(text, "scenario")
            state.set_scenario(scenario, "PUT /control/scenario")
        except ScenarioError as e:
            return _problem(400, str(e))
        return web.Response(body=scenario_json(scenario), content_type="application/json")

    async def reset(request: web.Request) -> web.Response:
        state.reset()
        return _json({"status": "reset"})

    async def ledger(request: web.Request) -> web.Response:
        try:
            since = int(request.query.get("since", "0"))
            limit = int(request.query["limit"]) if "limit" in request.query else None
        except ValueError:
            return _problem(400, "`since` and `limit` must be integers")
        records = state.ledger.records(since, limit)
        nxt = records[-1].seq if records else max(since, 0)
        body = b'{"records":[' + b",".join(orjson.dumps(r.as_dict()) for r in records) + b'],"next":'
        return web.Response(body=body + str(nxt).encode() + b"}", content_type="application/json")

    async def summary(request: web.Request) -> web.Response:
        return _json(state.ledger.summary())

    async def metrics(request: web.Request) -> web.Response:
        resp = web.Response(body=state.metrics.render())
        resp.headers["Content-Type"] = CONTENT_TYPE
        return resp

    app.router.add_get("/control/health", guarded(state, health))
    app.router.add_get("/control/scenario", guarded(state, get_scenario))
    app.router.add_put("/control/scenario", guarded(state, put_scenario))
    app.router.add_post("/control/reset", guarded(state, reset))
    app.router.add_get("/control/ledger", guarded(state, ledger))
    app.router.add_get("/control/summary", guarded(state, summary))
    app.router.add_get("/metrics", guarded(state, metrics))
