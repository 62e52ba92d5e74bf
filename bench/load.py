"""The load generator: N agents on keep-alive connections, each looping next then finish.

One asyncio process on 127.0.0.1. The default client speaks just enough HTTP/1.1 for our
servers (uvicorn always sends Content-Length), so the generator spends little of the
machine's 2 cores; `--client httpx` uses httpx instead. Every loop is bounded by the
deadline; an agent always completes its last cycle so it leaves no lease behind.
"""

import asyncio
import json
import math
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import httpx

from bench.seed import Agent

Mode = Literal["release", "outcome"]
REQUEST_TIMEOUT_S = 10.0


class Conn(Protocol):
    async def request(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes]: ...

    async def close(self) -> None: ...


class RawConn:
    """One keep-alive HTTP/1.1 connection: one request at a time."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self._reader, self._writer

    async def request(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        try:
            reader, writer = await self._open()
            head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
            for name, value in headers.items():
                head += f"{name}: {value}\r\n"
            head += f"Content-Length: {len(body)}\r\n\r\n"
            writer.write(head.encode() + body)
            raw = await reader.readuntil(b"\r\n\r\n")
            status = int(raw[9:12])
            lower = raw.lower()
            at = lower.find(b"\r\ncontent-length:")
            if at < 0:
                raise ConnectionError("response without Content-Length")
            end = lower.find(b"\r\n", at + 2)
            payload = await reader.readexactly(int(lower[at + 17 : end]))
            if b"\r\nconnection: close" in lower:
                await self.close()
            return status, payload
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


class HttpxConn:
    """The same, through one shared httpx.AsyncClient."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def request(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        r = await self.client.request(method, path, content=body, headers=headers)
        return r.status_code, r.content

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class Target:
    """How one server spells next, release and finish."""

    name: str
    port: int
    assignment_id: int
    next_path: Callable[[int], str]
    finish: Callable[[Mode, dict[str, Any]], tuple[str, dict[str, Any]]]
    auth: Callable[[Agent], dict[str, str]]


def ours(port: int, assignment_id: int) -> Target:
    def finish(mode: Mode, card: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        cid, lease = card["customer"]["id"], card["lease"]["id"]
        if mode == "release":
            return f"/v1/customers/{cid}/release", {"lease_id": lease}
        body = {"lease_id": lease, "version": card["membership"]["version"]}
        return f"/v1/customers/{cid}/outcomes", {**body, "code": "not_interested"}

    return Target(
        "ours",
        port,
        assignment_id,
        lambda a: f"/v1/assignments/{a}/next",
        finish,
        lambda agent: {"Authorization": f"Bearer {agent.token}"},
    )


def baseline(name: str, port: int, assignment_id: int) -> Target:
    """Both baselines share one shape: /next/{a}, /release/{a}/{c}, /done/{a}/{c}."""

    def finish(mode: Mode, card: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if "customer" in card:
            cid, lease = card["customer"]["id"], card["lease"]["id"]
        else:
            cid, lease = card["customer_id"], card["lease"]["id"]
        verb = "release" if mode == "release" else "done"
        return f"/{verb}/{assignment_id}/{cid}", {"lease_id": lease}

    return Target(
        name,
        port,
        assignment_id,
        lambda a: f"/next/{a}",
        finish,
        lambda agent: {"X-Agent": str(agent.user_id), "Authorization": f"Bearer {agent.token}"},
    )


def summarize(samples: list[float]) -> dict[str, float]:
    """Milliseconds: p50, p90, p99, p99.9, max, mean (nearest-rank percentiles)."""
    if not samples:
        return {}
    ordered = sorted(samples)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]

    return {
        "p50": round(pct(50) * 1000, 3),
        "p90": round(pct(90) * 1000, 3),
        "p99": round(pct(99) * 1000, 3),
        "p99_9": round(pct(99.9) * 1000, 3),
        "max": round(ordered[-1] * 1000, 3),
        "mean": round(sum(ordered) / len(ordered) * 1000, 3),
    }


@dataclass
class LoadResult:
    server: str
    mode: Mode
    agents: int
    window_s: float
    next_count: int = 0
    finish_count: int = 0
    empty_count: int = 0
    next_errors: int = 0
    finish_errors: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    next_ms: dict[str, float] = field(default_factory=dict)
    finish_ms: dict[str, float] = field(default_factory=dict)
    client_cpu_s: float = 0.0
    interval_s: float | None = None
    sources: Counter[str] = field(default_factory=Counter)
    samples: list[float] = field(default_factory=list, repr=False)  # /next seconds; not saved
    finish_samples: list[float] = field(default_factory=list, repr=False)

    @property
    def next_per_s(self) -> float:
        return self.next_count / self.window_s if self.window_s else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "mode": self.mode,
            "agents": self.agents,
            "interval_s": self.interval_s,
            "window_s": round(self.window_s, 3),
            "next_per_s": round(self.next_per_s, 1),
            "next_count": self.next_count,
            "finish_count": self.finish_count,
            "empty_count": self.empty_count,
            "next_errors": self.next_errors,
            "finish_errors": self.finish_errors,
            "statuses": dict(self.statuses),
            "sources": dict(self.sources),
            "next_latency_ms": self.next_ms,
            "finish_latency_ms": self.finish_ms,
            "client_cpu_s": round(self.client_cpu_s, 3),
        }


async def run_load(
    target: Target,
    agents: list[Agent],
    *,
    mode: Mode,
    seconds: float,
    warmup: float,
    interval: float | None = None,
    client: str = "raw",
    on_window: Callable[[bool], Any] | None = None,
) -> LoadResult:
    """Each agent loops next + finish until the deadline; only the window after warm-up counts.

    With `interval`, each agent starts a cycle at most every `interval` seconds (a paced load);
    without, it starts the next cycle at once (saturation). `on_window(True)` is awaited when
    the measured window opens and `on_window(False)` when it closes.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    window_open = started + warmup
    deadline = window_open + seconds
    result = LoadResult(target.name, mode, len(agents), seconds, interval_s=interval)
    next_lat: list[float] = []
    finish_lat: list[float] = []
    shared: httpx.AsyncClient | None = None
    if client == "httpx":
        limits = httpx.Limits(max_connections=len(agents) + 8, max_keepalive_connections=None)
        shared = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{target.port}", limits=limits, timeout=REQUEST_TIMEOUT_S
        )

    def conn() -> Conn:
        return HttpxConn(shared) if shared is not None else RawConn("127.0.0.1", target.port)

    async def agent_loop(agent: Agent, offset: float) -> None:
        c = conn()
        headers = {**target.auth(agent), "Content-Type": "application/json"}
        next_path = target.next_path(target.assignment_id)
        tick = started + offset
        try:
            while loop.time() < deadline:
                if interval is not None:
                    delay = tick - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    tick = max(tick + interval, loop.time())
                    if loop.time() >= deadline:
                        break
                t0 = time.perf_counter()
                counted = loop.time() >= window_open
                try:
                    status, body = await asyncio.wait_for(
                        c.request("POST", next_path, b"", headers), REQUEST_TIMEOUT_S
                    )
                except (OSError, TimeoutError, asyncio.IncompleteReadError, httpx.HTTPError):
                    if counted:
                        result.next_errors += 1
                        result.statuses["next:error"] += 1
                    await asyncio.sleep(0.05)
                    continue
                t1 = time.perf_counter()
                if counted:
                    result.next_count += 1
                    next_lat.append(t1 - t0)
                    result.statuses[f"next:{status}"] += 1
                if status != 200:
                    if counted:
                        result.next_errors += 1
                    await asyncio.sleep(0.01)
                    continue
                card = json.loads(body)
                if card.get("status") == "empty":
                    if counted:
                        result.empty_count += 1
                    await asyncio.sleep(0.05)
                    continue
                if counted:
                    result.sources[str(card.get("source", "?"))] += 1
                path, payload = target.finish(mode, card)
                try:
                    status, _ = await asyncio.wait_for(
                        c.request("POST", path, json.dumps(payload).encode(), headers),
                        REQUEST_TIMEOUT_S,
                    )
                except (OSError, TimeoutError, asyncio.IncompleteReadError, httpx.HTTPError):
                    status = 0
                if counted:
                    finish_lat.append(time.perf_counter() - t1)
                    result.finish_count += 1
                    result.statuses[f"finish:{status or 'error'}"] += 1
                    if status != 200:
                        result.finish_errors += 1
        finally:
            await c.close()

    async def window() -> None:
        await asyncio.sleep(max(0.0, window_open - loop.time()))
        cpu0 = time.process_time()
        if on_window is not None:
            await on_window(True)
        await asyncio.sleep(max(0.0, deadline - loop.time()))
        if on_window is not None:
            await on_window(False)
        result.client_cpu_s = time.process_time() - cpu0

    # Paced agents start spread over one interval, not all at once.
    spread = interval or 0.0
    tasks = [agent_loop(a, spread * i / max(1, len(agents))) for i, a in enumerate(agents)]
    try:
        await asyncio.gather(window(), *tasks)
    finally:
        if shared is not None:
            await shared.aclose()
    result.samples = next_lat
    result.finish_samples = finish_lat
    result.next_ms = summarize(next_lat)
    result.finish_ms = summarize(finish_lat)
    return result


async def wait_ready(port: int, path: str, *, within_s: float = 60.0) -> None:
    """Until GET path answers 200."""
    deadline = time.monotonic() + within_s
    last: BaseException | None = None
    while time.monotonic() < deadline:
        c = RawConn("127.0.0.1", port)
        try:
            status, _ = await asyncio.wait_for(c.request("GET", path, b"", {}), 5)
            if status == 200:
                return
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
            last = exc
        finally:
            await c.close()
        await asyncio.sleep(0.1)
    raise RuntimeError(f"server on port {port} not ready: {last!r}")


def cpu_count() -> int:
    return os.cpu_count() or 1
