"""Idempotency-Key on every POST under /v1, as plain ASGI in front of the hot paths and FastAPI.

A request without the header passes untouched (one scan of the headers, no Redis), so the hot
paths stay as fast as they were. With it, the caller is authenticated (from the principal cache
as a rule), the body read and fingerprinted, and the key claimed in Redis in one round trip:
- a new key: the request runs; its answer is kept for 24 h, unless it was one that did nothing
  and asks for a retry (5xx, 429), which frees the key;
- a key whose first request finished, with the same request: its answer, replayed as it was
  (status, headers, body), with `Idempotent-Replayed: true`; nothing runs again;
- the same key with another request: 422 `idempotency_key_reused`;
- the same key while its first request still runs: 409 `idempotency_key_in_use` (no waiting:
  the client retries, and then gets the first answer).
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.asgi_body import read_body, replay
from services.api.deps import authenticate_token
from services.api.errors import (
    BadRequest,
    Conflict,
    DomainError,
    Unauthorized,
    Unprocessable,
    error_response,
)
from services.api.idempotency import records
from services.api.idempotency.records import Answer
from services.api.ratelimit.client import bearer_token
from services.api.resources import Resources

HEADER = b"idempotency-key"
REPLAYED = (b"idempotent-replayed", b"true")
MAX_KEY_LENGTH = 255


class IdempotentWrites:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        raw_key = _key_header(scope)
        if raw_key is None or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        resources: Resources = scope["app"].state.resources
        try:
            key = _valid_key(raw_key)
            principal = await authenticate_token(resources, bearer_token(scope))
        except Unauthorized:
            # The app answers it as it answers any unknown token (and counts the failure).
            await self.app(scope, receive, send)
            return
        except DomainError as exc:
            await _refuse(exc, scope, receive, send)
            return
        body, complete = await read_body(receive, limit=self.max_body_bytes)
        if not complete:
            # Too large (the app answers 413) or the client left: nothing to remember.
            await self.app(scope, replay(body, receive, more=not complete), send)
            return
        fingerprint = records.fingerprint(scope["path"], scope.get("query_string", b""), body)
        redis_key = records.record_key(principal.tenant_id, principal.user_id, key)
        found = await records.claim(resources.redis, redis_key, fingerprint)
        if found is not None:
            await _answer_again(found, fingerprint, scope, receive, send)
            return
        answer = await self._run(scope, replay(body, receive, more=False), redis_key)
        if answer.status >= 500 or answer.status == 429:
            await records.forget(resources.redis, redis_key)
        else:
            await records.keep(resources.redis, redis_key, fingerprint, answer)
        await _send(answer, send)

    async def _run(self, scope: Scope, receive: Receive, redis_key: str) -> Answer:
        """The app's answer, collected whole (writes answer small JSON bodies)."""
        status = 500
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def collect(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            await self.app(scope, receive, collect)
        except BaseException:
            await records.forget(scope["app"].state.resources.redis, redis_key)
            raise
        return Answer(status, headers, b"".join(chunks))


def _key_header(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == HEADER:
            return bytes(value)
    return None


def _valid_key(raw: bytes) -> str:
    """Printable ASCII, 1 to 255 characters (a UUID is the usual choice)."""
    if not 0 < len(raw) <= MAX_KEY_LENGTH or not all(0x21 <= b <= 0x7E for b in raw):
        raise BadRequest(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters "
            "without spaces",
            code="idempotency_key_invalid",
        )
    return raw.decode("ascii")


async def _answer_again(
    found: records.Record, fingerprint: str, scope: Scope, receive: Receive, send: Send
) -> None:
    if found.fingerprint != fingerprint:
        await _refuse(
            Unprocessable(
                "this Idempotency-Key was used for another request; use a new key for a "
                "new request",
                code="idempotency_key_reused",
            ),
            scope,
            receive,
            send,
        )
    elif found.answer is None:
        await _refuse(
            Conflict(
                "a request with this Idempotency-Key is still running; retry in a moment "
                "for its answer",
                code="idempotency_key_in_use",
            ),
            scope,
            receive,
            send,
        )
    else:
        await _send(found.answer, send, replayed=True)


async def _refuse(exc: DomainError, scope: Scope, receive: Receive, send: Send) -> None:
    response = error_response(exc)
    assert response is not None
    await response(scope, receive, send)


async def _send(answer: Answer, send: Send, *, replayed: bool = False) -> None:
    headers = [*answer.headers, REPLAYED] if replayed else answer.headers
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})
