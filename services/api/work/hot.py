"""The hot paths, `next` and the holder's writes, served as plain ASGI in front of FastAPI.

An agent's cycle is two requests, `next` then an outcome or attempt, and at the benchmark's
saturation FastAPI's own request handling (routing through the included routers, solving the
dependencies, parsing the body, the middleware layers) cost as much CPU as the work itself:
a do-nothing FastAPI POST costs about 3 times a do-nothing ASGI answer on the same server
(decision 017). So these three operations skip it, and only when the request is ordinary:

- POST, a path id in range, a bearer token, a JSON body (`Content-Type: application/json`;
  none at all for a plain `next`) within the body limit that the request model accepts;
- `next` without `wait_seconds` (a long poll watches its client: FastAPI's route does that).

They are declared once (routes.py) for both ways in, and run the same code as the FastAPI
routes: `authorize` for the token and permission, the table's operation, `error_response`
for every expected error.
Any other request, including every malformed one, is passed on to FastAPI with its body
replayed, so the answers to bad input, and the OpenAPI document, are FastAPI's.
"""

import re
from collections.abc import Callable

from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from services.api.asgi_body import read_body, replay
from services.api.deps import authorize
from services.api.errors import error_response
from services.api.fields import MAX_ID
from services.api.middleware import send_too_large
from services.api.resources import Resources
from services.api.work.routes import HOT_ROUTES, Run
from shared.models import Permission

# The body as the endpoint's request: None when it is not one to serve here; a pydantic
# ValidationError when malformed (FastAPI answers it).
Parse = Callable[[bytes], BaseModel | None]
# Matched in order; built from the one table of the hot routes (routes.py).
ROUTES: tuple[tuple[re.Pattern[str], Parse, Run], ...] = tuple(
    (route.pattern(), route.parse, route.run) for route in HOT_ROUTES
)
_JSON = (b"content-type", b"application/json")


class HotPaths:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path = scope["path"]
            for pattern, parse, run in ROUTES:
                found = pattern.fullmatch(path)
                if found is not None and int(found[1]) <= MAX_ID:
                    await self._serve(parse, run, int(found[1]), scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _serve(
        self, parse: Parse, run: Run, path_id: int, scope: Scope, receive: Receive, send: Send
    ) -> None:
        token, content_type, length = _headers(scope["headers"])
        declared_too_long = length is not None and length > self.max_body_bytes
        if token is None or content_type not in (b"application/json", None) or declared_too_long:
            await self.app(scope, receive, send)
            return
        body, complete = await read_body(receive, limit=self.max_body_bytes)
        if len(body) > self.max_body_bytes:
            await send_too_large(scope, receive, send, self.max_body_bytes)
            return
        try:
            # No Content-Type is fine without a body (a plain `next`), not with one.
            ordinary = complete and (content_type is not None or not body)
            request = parse(body) if ordinary else None
        except ValidationError:
            request = None
        if request is None:
            await self.app(scope, replay(body, receive, more=not complete), send)
            return
        resources: Resources = scope["app"].state.resources
        try:
            agent = await authorize(resources, token, Permission.customer_handling)
            answer = await run(resources, agent, path_id, request)
        except Exception as exc:
            response = error_response(exc)
            if response is None:
                raise
            await response(scope, receive, send)
            return
        content = answer.model_dump_json().encode()
        size = (b"content-length", str(len(content)).encode())
        await send({"type": "http.response.start", "status": 200, "headers": [size, _JSON]})
        await send({"type": "http.response.body", "body": content})


def _headers(headers: list[tuple[bytes, bytes]]) -> tuple[str | None, bytes | None, int | None]:
    """The bearer token, the body's media type and its declared length, each None when not
    given; the first of repeated headers counts, as in Starlette."""
    token: str | None = None
    content_type: bytes | None = None
    length: int | None = None
    seen: set[bytes] = set()
    for name, value in headers:
        if name in seen:
            continue
        seen.add(name)
        if name == b"authorization":
            # Read as FastAPI's HTTPBearer reads it.
            scheme, credentials = get_authorization_scheme_param(value.decode("latin-1"))
            if scheme.lower() == "bearer" and credentials:
                token = credentials
        elif name == b"content-type":
            content_type = value.split(b";", 1)[0].strip().lower()
        elif name == b"content-length" and value.isdigit():
            length = int(value)
    return token, content_type, length
