"""The few fake-provider control calls a locust master makes (blocking HTTP; under locust,
gevent makes them cooperative): start the scenario clock with the load, and, when asked, put
the experiment's phase faults on the provider and take them off again.

Several URLs stand for several provider replicas behind a load balancer: each gets the same
rules and its clock started at the same moment, and with the same seed their fault decisions
agree (a roll depends on seed, rule, request and attempt only).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

TIMEOUT_S = 10.0


class ProviderUnreachable(Exception):
    """A control call failed; the message names the provider and the call."""


def call(
    url: str, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 201), token: str = ""
) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url.rstrip("/") + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as resp:
            payload = resp.read()
    except urllib.error.HTTPError as e:
        if e.code in ok:
            return None
        detail = e.read().decode(errors="replace")
        raise ProviderUnreachable(f"provider {url}: {method} {path} answered {e.code}: {detail}") from None
    except (OSError, TimeoutError) as e:
        raise ProviderUnreachable(f"provider {url}: {method} {path} failed: {e}") from None
    return json.loads(payload) if payload else None


def start_clock(url: str, token: str = "") -> None:
    call(url, "POST", "/control/clock/start", token=token)


def add_fault(url: str, rule: dict[str, Any], token: str = "") -> None:
    call(url, "POST", "/control/faults", rule, token=token)


def remove_fault(url: str, name: str, token: str = "") -> None:
    """Remove one rule by name; already gone is fine."""
    path = "/control/faults/" + urllib.parse.quote(name, safe="")
    call(url, "DELETE", path, ok=(200, 404), token=token)
