"""The control API (`/control/...`) and `/metrics`.

Loopback callers only, unless the server was given a bearer token; with a token, every control
call must carry it.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson
from aiohttp import web

from fakeprovider.accounting.metrics import CONTENT_TYPE
from fakeprovider.replay.cassette import CassetteError
from fakeprovider.replay.replayer import ReplayOptions
from fakeprovider.scenario import ScenarioError, parse_rule, parse_scenario, scenario_json
from fakeprovider.scenario.engine import RuleError
from fakeprovider.state import ProviderState

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(data: object, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(data), content_type="application/json")


def _problem(status: int, message: str) -> web.Response:
    return _json({"error": {"status": status, "message": message}}, status)


def is_loopback(peer: str | None) -> bool:
    """Whether `peer` (a remote address as aiohttp reports it) is this machine."""
    if peer is None:
        return False
    try:
        address = ipaddress.ip_address(peer.split("%")[0])
    except ValueError:
        return peer == "localhost"
    # A dual-stack listener sees IPv4 loopback callers as ::ffff:127.0.0.1.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def guarded(state: ProviderState, handler: Handler) -> Handler:
    """Apply the control API's access rule to one handler."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        token = state.config.control_token
        if token is not None:
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return _problem(401, "control API: missing or wrong bearer token")
        elif not is_loopback(request.remote):
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

    async def list_faults(request: web.Request) -> web.Response:
        return _json({"faults": [r.describe() for r in state.engine.rules]})

    async def add_fault(request: web.Request) -> web.Response:
        text = await request.read()
        try:
            rule = parse_rule(text, "POST /control/faults")
            active = state.engine.add(rule)
        except ScenarioError as e:
            return _problem(400, str(e))
        except RuleError as e:
            return _problem(409, str(e))
        return _json(active.describe(), 201)

    async def delete_faults(request: web.Request) -> web.Response:
        name = request.match_info.get("name")
        if name is None:
            state.engine.clear()
            return _json({"status": "removed all"})
        if not state.engine.remove(name):
            return _problem(404, f"no fault rule named {name!r}")
        return _json({"status": "removed", "name": name})

    async def clock(request: web.Request) -> web.Response:
        return _json({"now_s": round(state.clock.now(), 6)})

    async def clock_start(request: web.Request) -> web.Response:
        state.clock.start()
        return _json({"now_s": 0.0})

    async def get_replay(request: web.Request) -> web.Response:
        replay = state.replay
        return _json({"replay": None if replay is None else replay.stats()})

    async def put_replay(request: web.Request) -> web.Response:
        """`{"directory": DIR, "miss": "generate"|"error", "speed": X}`, or `null` for none."""
        try:
            data = orjson.loads(await request.read() or b"null")
        except orjson.JSONDecodeError as e:
            return _problem(400, f"PUT /control/replay: not JSON: {e}")
        if data is None:
            state.set_replay(None)
            return await get_replay(request)
        if not isinstance(data, dict) or not isinstance(data.get("directory"), str):
            return _problem(400, 'PUT /control/replay: expected {"directory": DIR, "miss": …, "speed": …}')
        try:
            options = ReplayOptions(
                Path(data["directory"]), data.get("miss", "generate"), data.get("speed", 1.0)
            )
            state.set_replay(options)
        except CassetteError as e:
            return _problem(400, f"PUT /control/replay: {e}")
        return await get_replay(request)

    app.router.add_get("/control/replay", guarded(state, get_replay))
    app.router.add_put("/control/replay", guarded(state, put_replay))
    app.router.add_get("/control/faults", guarded(state, list_faults))
    app.router.add_post("/control/faults", guarded(state, add_fault))
    app.router.add_delete("/control/faults", guarded(state, delete_faults))
    app.router.add_delete("/control/faults/{name}", guarded(state, delete_faults))
    app.router.add_get("/control/clock", guarded(state, clock))
    app.router.add_post("/control/clock/start", guarded(state, clock_start))
    app.router.add_get("/control/health", guarded(state, health))
    app.router.add_get("/control/scenario", guarded(state, get_scenario))
    app.router.add_put("/control/scenario", guarded(state, put_scenario))
    app.router.add_post("/control/reset", guarded(state, reset))
    app.router.add_get("/control/ledger", guarded(state, ledger))
    app.router.add_get("/control/summary", guarded(state, summary))
    app.router.add_get("/metrics", guarded(state, metrics))
