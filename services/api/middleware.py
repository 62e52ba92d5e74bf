"""A request-body size limit as plain ASGI middleware.

Starlette's BaseHTTPMiddleware wraps every request in extra tasks and streams; measured on
/next it cost more than the Redis claim itself. This one only reads the Content-Length header
(and counts streamed bodies without one) and answers 413 above the limit.
"""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.problems import problem_response
from shared.errors import PayloadTooLarge


class BodySizeLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                if value.isdigit() and int(value) > self.max_bytes:
                    await send_too_large(scope, receive, send, self.max_bytes)
                    return
                break
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        try:
            await self.app(scope, counting_receive, send)
        except BodyTooLarge:
            await send_too_large(scope, receive, send, self.max_bytes)


async def send_too_large(scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
    code = PayloadTooLarge.default_code
    await problem_response(413, code, too_large_message(max_bytes))(scope, receive, send)


def too_large_message(max_bytes: int) -> str:
    return f"request body over {max_bytes} bytes"


class BodyTooLarge(HTTPException):
    """A streamed body passed the limit.

    An HTTPException, so that FastAPI passes it on while parsing a body (any other error
    there becomes a 400) and answers 413; elsewhere BodySizeLimit answers it.
    """

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, too_large_message(max_bytes))
