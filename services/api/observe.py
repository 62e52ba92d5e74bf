"""Every HTTP request counted, timed and logged once, as plain ASGI around the whole app.

Outermost, so that it also sees what never reaches FastAPI's routing: the hot paths served in
front of it (services/api/work/hot.py) and bodies refused as too large. Labels are route
templates ("/v1/customers/{customer_id}/outcomes"), never paths: routing names the route
(`scope["route"]`); for a request no router saw, `RouteNames` finds the template among the
API's, and a path that matches none is "unmatched".

One access line per request: request_id (the client's X-Request-ID when it is a plain token,
else a new one; echoed in the answer), tenant_id and user_id (bound when the token is read,
services/api/deps.py), method, route, status and duration_ms. Never the path or the query
string: a search's query holds a customer's name.
"""

import logging
import os
import re
import time
from collections.abc import Iterable, Sequence
from typing import Any

import structlog
from fastapi.telemetry import TelemetryConfig
from prometheus_client import Counter, Histogram
from starlette.routing import Mount, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.infra import metrics

log = logging.getLogger("nextcall.access")

UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
# A client's request id is kept when it is this plain: it goes into every log line.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
_HEADER = b"x-request-id"
_CONVERTOR = re.compile(r"\{(\w+):\w+\}")
# This layer counts, times and logs every request (Prometheus, the access log). FastAPI's own
# OpenTelemetry layer, on by default, looks for a configured provider on every request (three
# environment reads): it is off (decision 038). The benchmark's baselines run FastAPI with the
# same setting.
NO_OPENTELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


class RouteNames:
    """The template of a path among the API's route templates, indexed by the path's last
    segment: a hot path's request costs a dict read and a regex or two."""

    def __init__(self, templates: Iterable[str]) -> None:
        self._by_tail: dict[str, list[tuple[re.Pattern[str], str]]] = {}
        self._by_param: list[tuple[re.Pattern[str], str]] = []
        for template in templates:
            regex = compile_path(template)[0]
            tail = template.rsplit("/", 1)[-1]
            if "{" in tail or not tail:
                self._by_param.append((regex, template))
            else:
                self._by_tail.setdefault(tail, []).append((regex, template))

    def name(self, path: str) -> str:
        for regex, template in (*self._by_tail.get(path.rsplit("/", 1)[-1], ()), *self._by_param):
            if regex.match(path):
                return template
        return UNMATCHED


# The route templates of the apps built in this process, by the app's title and version:
# every app `create_app` builds has the same routes, and generating an OpenAPI document takes
# about half a second on a quiet 2-core machine (tests build an app per test: hundreds of them).
_TEMPLATES: dict[tuple[str, str], tuple[str, ...]] = {}


def route_names(app: Any) -> RouteNames:
    """Served in front of routing (or refused before it): the API's templates, as its OpenAPI
    document lists them, name it. Built at start-up (services/api/app.py): generating the
    document takes a while, no request should wait for it."""
    names: RouteNames | None = getattr(app.state, "route_names", None)
    if names is None:
        key = (str(app.title), str(app.version))
        templates = _TEMPLATES.get(key)
        if templates is None:
            templates = _TEMPLATES[key] = tuple(app.openapi()["paths"])
        names = app.state.route_names = RouteNames(templates)
    return names


def routed_template(route: object, path: str) -> str | None:
    """The full template of the route routing chose. A route's own template is relative to
    the routers that include it (FastAPI keeps them nested): the path's leading segments are
    their prefixes, static by construction; a number among them is named {id} anyway, so that
    no id ever becomes a label."""
    template: str | None = getattr(route, "path", None)
    if template is None:
        return None
    if isinstance(route, Mount):
        return template + "/{path}"
    if ":" in template:
        # "{customer_id:int}": the schema's (and the labels') name is "{customer_id}".
        template = _CONVERTOR.sub(r"{\1}", template)
    parts = path.split("/")
    prefix = parts[: max(1, len(parts) - template.count("/"))]
    return "/".join("{id}" if p.isdigit() else p for p in prefix) + template


class Observe:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._names: RouteNames | None = None
        self._counted: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope["headers"])
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = 500  # what the server answers when the app raised before answering
        echoed = (_HEADER, request_id.encode())

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = self._route(scope)
        method = scope["method"] if scope["method"] in METHODS else metrics.OTHER
        counted = self._counted.get((route, method, status))
        if counted is None:
            # Children looked up once per label set (bounded): labels() validates every time.
            counted = (
                metrics.HTTP_REQUESTS.labels(route, method, str(status)),
                (metrics.HTTP_DURATION.labels(route, method)),
            )
            self._counted[(route, method, status)] = counted
        counted[0].inc()
        counted[1].observe(seconds)
        fields: dict[str, Any] = {
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
        }
        log.log(logging.WARNING if status >= 500 else logging.INFO, "request", extra=fields)

    def _route(self, scope: Scope) -> str:
        routed = routed_template(scope.get("route"), scope["path"])
        if routed is not None:
            return routed
        if self._names is None:
            self._names = route_names(scope["app"])
        return self._names.name(scope["path"])


def _request_id(headers: Sequence[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == _HEADER:
            given = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(given):
                return given
            break
    return os.urandom(16).hex()
