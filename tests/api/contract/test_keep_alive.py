"""An idle keep-alive connection outlives clients' pool expiry.

When the server closes an idle connection at the moment a client reuses it, that request fails
with a read error and no answer. So the server must keep idle connections longer than clients
do: httpx's pool drops its idle connections after 5 s, exactly uvicorn's default keep-alive.
"""

import socket
import time

from tests.api.api_process import ApiProcess

# Just past httpx's keep-alive expiry (and uvicorn's default), where the two used to race.
IDLE_S = 5.5
REQUEST = b"GET /healthz HTTP/1.1\r\nHost: nextcall\r\n\r\n"


def _answer(conn: socket.socket) -> bytes:
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = conn.recv(4096)
        if not chunk:
            break
        received += chunk
    return received


def test_an_idle_connection_is_still_open_after_a_clients_pool_would_drop_it(
    apis: list[ApiProcess],
) -> None:
    with socket.create_connection(("127.0.0.1", apis[0].port), timeout=5) as conn:
        conn.sendall(REQUEST)
        assert _answer(conn).startswith(b"HTTP/1.1 200")
        time.sleep(IDLE_S)
        conn.sendall(REQUEST)
        assert _answer(conn).startswith(b"HTTP/1.1 200"), "the server closed the idle connection"
