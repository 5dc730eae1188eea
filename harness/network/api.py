"""Toxiproxy's HTTP API (2.x): the same routes, status codes, JSON shapes and error bodies."""

from __future__ import annotations

import functools
import json
from typing import Any

from aiohttp import web

from harness.network.collection import ProxyCollection
from harness.network.errors import ApiError
from harness.network.wire import ProxyBody, decode_list, decode_object

# The Toxiproxy release whose API this server speaks (what `GET /version` reports).
TOXIPROXY_VERSION = "2.12.0"

COLLECTION = web.AppKey("collection", ProxyCollection)

_dumps = functools.partial(json.dumps, separators=(",", ":"))  # compact, as Go's json.Marshal


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


@web.middleware
async def _refuse_browsers(request: web.Request, handler: Any) -> web.StreamResponse:
    # Toxiproxy's guard against a web page driving the API from a browser (CSRF).
    if request.headers.get("User-Agent", "").startswith("Mozilla/"):
        return web.Response(status=403, text="User agent not allowed\n")
    response: web.StreamResponse = await handler(request)
    return response


@web.middleware
async def _api_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except ApiError as e:
        return _json(e.to_json(), e.status)
    return response


def _collection(request: web.Request) -> ProxyCollection:
    return request.app[COLLECTION]


async def proxy_index(request: web.Request) -> web.Response:
    return _json({p.name: p.to_json() for p in _collection(request).proxies()})


async def proxy_create(request: web.Request) -> web.Response:
    collection = _collection(request)
    fields = decode_object(await request.read(), ProxyBody)
    proxy = collection.new_proxy(fields)
    await collection.add(proxy, start=fields.enabled is not False)
    return _json(proxy.to_json(), 201)


async def populate(request: web.Request) -> web.Response:
    body = await request.read()
    try:
        proxies, error = await _collection(request).populate(decode_list(body))
    except ApiError as e:
        proxies, error = [], e
    # Go marshals an empty slice of proxies here as null.
    answer: dict[str, Any] = {"proxies": [p.to_json() for p in proxies] or None}
    if error is not None:
        return _json({**error.to_json(), **answer}, error.status)
    return _json(answer, 201)


async def proxy_show(request: web.Request) -> web.Response:
    return _json(_collection(request).get(request.match_info["proxy"]).to_json())


async def proxy_update(request: web.Request) -> web.Response:
    """`POST` (deprecated in Toxiproxy 2.6) or `PATCH`: fields left out keep their values."""
    proxy = _collection(request).get(request.match_info["proxy"])
    fields = decode_object(await request.read(), ProxyBody)
    async with proxy.lock:
        await proxy.update(
            proxy.listen if fields.listen is None else fields.listen,
            proxy.upstream if fields.upstream is None else fields.upstream,
            proxy.enabled if fields.enabled is None else fields.enabled,
        )
    return _json(proxy.to_json())


async def proxy_delete(request: web.Request) -> web.Response:
    await _collection(request).remove(request.match_info["proxy"])
    return web.Response(status=204)


async def toxic_index(request: web.Request) -> web.Response:
    return _json(_collection(request).get(request.match_info["proxy"]).toxics.to_json())


async def toxic_create(request: web.Request) -> web.Response:
    proxy = _collection(request).get(request.match_info["proxy"])
    wrapper = await proxy.toxics.add(await request.read())
    return _json(wrapper.to_json())  # 200, not 201: Toxiproxy's code


async def toxic_show(request: web.Request) -> web.Response:
    proxy = _collection(request).get(request.match_info["proxy"])
    return _json(proxy.toxics.get(request.match_info["toxic"]).to_json())


async def toxic_update(request: web.Request) -> web.Response:
    proxy = _collection(request).get(request.match_info["proxy"])
    wrapper = await proxy.toxics.update(request.match_info["toxic"], await request.read())
    return _json(wrapper.to_json())


async def toxic_delete(request: web.Request) -> web.Response:
    proxy = _collection(request).get(request.match_info["proxy"])
    await proxy.toxics.remove(request.match_info["toxic"])
    return web.Response(status=204)


async def reset(request: web.Request) -> web.Response:
    await _collection(request).reset()
    return web.Response(status=204)


async def version(request: web.Request) -> web.Response:
    body = f'{{"version": "{TOXIPROXY_VERSION}"}}\n'
    return web.Response(body=body.encode(), headers={"Content-Type": "application/json;charset=utf-8"})


def create_app(collection: ProxyCollection) -> web.Application:
    app = web.Application(middlewares=[_refuse_browsers, _api_errors])
    app[COLLECTION] = collection
    r = app.router
    r.add_post("/reset", reset)
    r.add_get("/proxies", proxy_index)
    r.add_post("/proxies", proxy_create)
    r.add_post("/populate", populate)
    r.add_get("/proxies/{proxy}", proxy_show)
    r.add_post("/proxies/{proxy}", proxy_update)
    r.add_patch("/proxies/{proxy}", proxy_update)
    r.add_delete("/proxies/{proxy}", proxy_delete)
    r.add_get("/proxies/{proxy}/toxics", toxic_index)
    r.add_post("/proxies/{proxy}/toxics", toxic_create)
    r.add_get("/proxies/{proxy}/toxics/{toxic}", toxic_show)
    r.add_post("/proxies/{proxy}/toxics/{toxic}", toxic_update)
    r.add_patch("/proxies/{proxy}/toxics/{toxic}", toxic_update)
    r.add_delete("/proxies/{proxy}/toxics/{toxic}", toxic_delete)
    r.add_get("/version", version)
    return app
