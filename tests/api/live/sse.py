"""A streaming client for the app's event streams, driven over ASGI in the test's event loop.

httpx's ASGI transport hands back a response only once the app has finished it, which an
event stream never does; this client runs the request as a task, reads what the app sends as
it sends it, and disconnects like a browser closing the page.
"""

import asyncio
import json
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from starlette.types import ASGIApp, Message

# Longest a test waits for the app to answer or send an event.
TIMEOUT_S = 5.0


@dataclass(frozen=True)
class SseEvent:
    id: str | None
    event: str | None
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


@dataclass
class EventStream:
    app: ASGIApp
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    status: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)
    body: str = ""  # everything received so far that no read has consumed

    def __post_init__(self) -> None:
        self._sent: asyncio.Queue[Message] = asyncio.Queue()
        self._gone = asyncio.Event()
        self._requested = False
        self._task: asyncio.Future[None] | None = None
        self._ended = False

    async def __aenter__(self) -> "EventStream":
        self._task = asyncio.ensure_future(self.app(self._scope(), self._receive, self._send))
        start = await self._message()
        assert start["type"] == "http.response.start", start
        self.status = int(start["status"])
        self.response_headers = {k.decode(): v.decode() for k, v in start.get("headers", [])}
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Disconnect and wait until the app has finished the request."""
        self._gone.set()
        if self._task is not None:
            await asyncio.wait_for(self._task, TIMEOUT_S)

    async def next_event(self, within_s: float = TIMEOUT_S) -> SseEvent:
        """The next event (comment lines are collected in `comments`)."""
        async with asyncio.timeout(within_s):
            while True:
                block = await self._block()
                event = self._parse(block)
                if event is not None:
                    return event

    async def next_comment(self, within_s: float = TIMEOUT_S) -> str:
        async with asyncio.timeout(within_s):
            seen = len(self.comments)
            while len(self.comments) == seen:
                block = await self._block()
                if self._parse(block) is not None:
                    raise AssertionError(f"an event came before a comment: {block!r}")
            return self.comments[seen]

    async def text(self) -> str:
        """The whole body of a response that ends (an error answer)."""
        while not self._ended:
            await self._chunk()
        return self.body

    def _parse(self, block: str) -> SseEvent | None:
        values: dict[str, str] = {}
        data: list[str] = []
        for line in block.split("\n"):
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            elif name in ("id", "event", "retry"):
                values[name] = value
        if not data:
            return None
        return SseEvent(values.get("id"), values.get("event"), "\n".join(data))

    async def _block(self) -> str:
        while "\n\n" not in self.body:
            if self._ended:
                raise EOFError("the stream ended")
            await self._chunk()
        block, _, self.body = self.body.partition("\n\n")
        return block

    async def _chunk(self) -> None:
        message = await self._message()
        assert message["type"] == "http.response.body", message
        self.body += message.get("body", b"").decode()
        if not message.get("more_body", False):
            self._ended = True

    async def _message(self) -> Message:
        if not self._sent.empty():
            return self._sent.get_nowait()
        getting: asyncio.Future[Message] = asyncio.ensure_future(self._sent.get())
        assert self._task is not None
        waited: set[asyncio.Future[Any]] = {getting, self._task}
        done, _ = await asyncio.wait(waited, timeout=TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED)
        if getting in done:
            return getting.result()
        getting.cancel()
        if not self._sent.empty():
            return self._sent.get_nowait()
        if self._task in done:
            self._task.result()  # raises what the app raised
            raise EOFError("the app finished without sending")
        raise TimeoutError("the app sent nothing")

    def _scope(self) -> dict[str, Any]:
        headers = [(k.lower().encode(), v.encode()) for k, v in self.headers.items()]
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": self.path,
            "raw_path": self.path.encode(),
            "query_string": urlencode(self.query).encode(),
            "root_path": "",
            "headers": [(b"host", b"test"), *headers],
            "server": ("test", 80),
            "client": ("127.0.0.1", 50000),
        }

    async def _receive(self) -> Message:
        if not self._requested:
            self._requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._gone.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: Message) -> None:
        await self._sent.put(message)
