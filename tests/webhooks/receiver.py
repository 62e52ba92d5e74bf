"""A webhook receiver on loopback, served by uvicorn in the test's event loop: it keeps what
it was sent, answers `status`, and can go down (its socket closed) and come back on its port."""

import asyncio
import json
import socket
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from standardwebhooks import Webhook

from tests.net import free_port

Scope = dict[str, Any]


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data

    def verified(self, secret: str) -> Any:
        """The body, if its signature verifies with `secret` (raises otherwise)."""
        return Webhook(secret).verify(self.body, self.headers)


@dataclass
class Receiver:
    port: int = field(default_factory=free_port)
    status: int = 200
    received: list[Received] = field(default_factory=list)
    _server: uvicorn.Server | None = None
    _task: "asyncio.Task[None] | None" = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        if self.status < 300:
            self.received.append(Received(headers, body))
        await send({"type": "http.response.start", "status": self.status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def start(self) -> None:
        """Up: listening at once (the socket is bound before the server runs)."""
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen()
        config = uvicorn.Config(self, lifespan="off", log_level="warning")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))

    async def stop(self) -> None:
        """Down: the listening socket closed, so a sender's connection is refused."""
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
            self._server = self._task = None
