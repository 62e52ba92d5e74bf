"""Reading a request's body ahead of the app, and handing it on: for the plain ASGI layers that
must see the body first (the hot paths, idempotent writes)."""

from starlette.types import Message, Receive


async def read_body(receive: Receive, *, limit: int) -> tuple[bytes, bool]:
    """The whole body and True; or what was read and False (past `limit`, or the client left)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks), False
        if not message.get("more_body", False):
            return b"".join(chunks), True


def replay(body: bytes, receive: Receive, *, more: bool) -> Receive:
    """A receive that gives `body` first (what was read), then the rest of the request."""
    replayed = False

    async def again() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": more}

    return again
