"""The load generator: agents on keep-alive connections, each looping next then finish.

One asyncio process per call of `run_load`; `bench.clients` spreads the agents of a slice
over several such processes so that the client is not what is measured. The default client
speaks just enough HTTP/1.1 for our servers (uvicorn always sends Content-Length), so it
spends little of the machine's 2 cores; `--client httpx` uses httpx instead. Every loop is
bounded by the deadline; an agent always completes its last cycle so it leaves no lease
behind.

Times that cross processes (when the window opens, when a follow-up was due) are wall-clock
epoch seconds; durations are measured with perf_counter.
"""

import asyncio
import json
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

import httpx

from bench.seed import Agent

REQUEST_TIMEOUT_S = 10.0
Kind = Literal["floor", "ideal", "nextcall", "peer", "base"]
# nextcall itself, and nextcall from another checkout (`--base`) driven the same way.
NEXTCALL_KINDS: tuple[Kind, ...] = ("nextcall", "base")


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


@dataclass(frozen=True, slots=True)
class Target:
    """One server under test and the assignment it serves (plain data: sent to clients)."""

    kind: Kind
    port: int
    assignment_id: int

    def next_path(self) -> str:
        if self.kind == "floor":
            return "/noop"
        if self.kind in NEXTCALL_KINDS:
            return f"/v1/assignments/{self.assignment_id}/next"
        return f"/next/{self.assignment_id}"

    def headers(self, agent: Agent) -> dict[str, str]:
        auth = {"Authorization": f"Bearer {agent.token}", "Content-Type": "application/json"}
        return auth if self.kind in NEXTCALL_KINDS else {**auth, "X-Agent": str(agent.user_id)}

    def finish(self, card: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The second request of a cycle, which puts the customer back where it can be served.

        nextcall: the attempt *no answer* from a free state (attempts + 1 and an event row,
        the peer's work), the outcome *not interested* from a follow-up; peer: its attempt-
        like UPDATE and event INSERT; ideal: the release script; floor: the same do-nothing
        POST again.
        """
        if self.kind == "floor":
            return "/noop", {}
        if self.kind in NEXTCALL_KINDS:
            cid, membership = card["customer"]["id"], card["membership"]
            body = {"lease_id": card["lease"]["id"], "version": membership["version"]}
            if membership["state"] == "free":
                return f"/v1/customers/{cid}/attempts", {**body, "kind": "no_answer"}
            return f"/v1/customers/{cid}/outcomes", {**body, "code": "not_interested"}
        if self.kind == "peer":
            cid = card["customer"]["id"]
            return f"/done/{self.assignment_id}/{cid}", {"lease_id": card["lease"]["id"]}
        cid = card["customer_id"]
        return f"/release/{self.assignment_id}/{cid}", {"lease_id": card["lease"]["id"]}


@dataclass(frozen=True, slots=True)
class LoadSpec:
    """One client process's part of a slice (plain data: sent to a client process)."""

    target: Target
    agents: list[tuple[Agent, float]]  # each agent with its offset in the pacing interval
    window_open: float  # epoch seconds
    deadline: float  # epoch seconds
    interval: float | None = None
    client: str = "raw"


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
    """What one or more client processes saw in a measured window."""

    window_s: float
    next_count: int = 0
    finish_count: int = 0
    empty_count: int = 0
    next_errors: int = 0
    finish_errors: int = 0
    cycles_done: int = 0  # cycles whose second request succeeded, warm-up and tail included
    statuses: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)
    # /next seconds: from the request's start in a closed loop, from the cycle's scheduled
    # start in an open loop (a late start counts).
    samples: list[float] = field(default_factory=list)
    finish_samples: list[float] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)  # each counted /next, s after the open
    lag: list[float] = field(default_factory=list)  # paced: how late each cycle started
    lateness: list[float] = field(default_factory=list)  # shared follow-ups: served - due
    client_cpu_s: list[float] = field(default_factory=list)  # per client process

    def merge(self, other: "LoadResult") -> None:
        self.next_count += other.next_count
        self.finish_count += other.finish_count
        self.empty_count += other.empty_count
        self.next_errors += other.next_errors
        self.finish_errors += other.finish_errors
        self.cycles_done += other.cycles_done
        self.statuses.update(other.statuses)
        self.sources.update(other.sources)
        for name in ("samples", "finish_samples", "starts", "lag", "lateness", "client_cpu_s"):
            getattr(self, name).extend(getattr(other, name))

    @property
    def next_per_s(self) -> float:
        return self.next_count / self.window_s if self.window_s else 0.0

    @property
    def client_busy(self) -> float:
        """The busiest client process's share of one core while measured."""
        return max(self.client_cpu_s, default=0.0) / self.window_s if self.window_s else 0.0


def _due_epoch(card: dict[str, Any]) -> float | None:
    raw = card.get("membership", {}).get("followup_at")
    return datetime.fromisoformat(raw).timestamp() if raw else None


async def run_load(spec: LoadSpec) -> LoadResult:
    """Each agent loops next + finish until the deadline; only the window counts.

    With `interval`, each agent starts a cycle every `interval` seconds by the schedule (an
    open loop: a late cycle is started at once and its lateness recorded, never skipped);
    without, it starts the next cycle at once (saturation, a closed loop).
    """
    loop = asyncio.get_running_loop()
    target, interval = spec.target, spec.interval
    # Epoch -> this loop's clock, once: the loop clock is monotonic.
    shift = loop.time() - time.time()
    window_open, deadline = spec.window_open + shift, spec.deadline + shift
    result = LoadResult(spec.deadline - spec.window_open)
    shared: httpx.AsyncClient | None = None
    if spec.client == "httpx":
        limits = httpx.Limits(max_connections=len(spec.agents) + 8, max_keepalive_connections=None)
        shared = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{target.port}", limits=limits, timeout=REQUEST_TIMEOUT_S
        )

    def conn() -> Conn:
        return HttpxConn(shared) if shared is not None else RawConn("127.0.0.1", target.port)

    async def request(
        c: Conn, path: str, body: bytes, headers: dict[str, str]
    ) -> int | bytes | str:
        """The status, or the body of a 200; for a request with no answer, why: "timeout"
        (none within REQUEST_TIMEOUT_S), "dropped" (the connection ended under it) or
        "failed" (it could not be sent)."""
        try:
            status, payload = await asyncio.wait_for(
                c.request("POST", path, body, headers), REQUEST_TIMEOUT_S
            )
        except (TimeoutError, httpx.TimeoutException):
            return "timeout"
        except (asyncio.IncompleteReadError, ConnectionResetError, httpx.RemoteProtocolError):
            return "dropped"
        except (OSError, httpx.HTTPError):
            return "failed"
        return payload if status == 200 else status

    async def agent_loop(agent: Agent, offset: float) -> None:
        c = conn()
        headers = target.headers(agent)
        next_path = target.next_path()
        # The schedule runs on perf_counter, the clock latencies are taken with (uvloop's
        # loop.time() moves in whole milliseconds).
        tick = scheduled = time.perf_counter() + offset
        try:
            while loop.time() < deadline:
                if interval is not None:
                    delay = tick - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    if loop.time() >= deadline:
                        break
                    if loop.time() >= window_open:
                        result.lag.append(max(0.0, time.perf_counter() - tick))
                    scheduled = tick
                    tick += interval
                t0 = time.perf_counter()
                started = loop.time()
                counted = started >= window_open
                answer = await request(c, next_path, b"", headers)
                t1 = time.perf_counter()
                if counted:
                    result.next_count += 1
                    result.samples.append(t1 - (scheduled if interval is not None else t0))
                    result.starts.append(started - window_open)
                if not isinstance(answer, bytes):
                    if counted:
                        result.next_errors += 1
                        result.statuses[f"next:{answer}"] += 1
                    await asyncio.sleep(0.05)
                    continue
                card = json.loads(answer)
                if card.get("status") == "empty":
                    if counted:
                        result.empty_count += 1
                    await asyncio.sleep(0.05)
                    continue
                source = str(card.get("source", "-"))
                if counted:
                    result.sources[source] += 1
                if source == "shared_followup":
                    due = _due_epoch(card)
                    if due is not None:  # recorded in or out of the window: each is served once
                        result.lateness.append(time.time() - due)
                path, payload = target.finish(card)
                done = await request(c, path, json.dumps(payload).encode(), headers)
                if isinstance(done, bytes):
                    result.cycles_done += 1
                if counted:
                    result.finish_samples.append(time.perf_counter() - t1)
                    result.finish_count += 1
                    if not isinstance(done, bytes):
                        result.finish_errors += 1
                        result.statuses[f"finish:{done}"] += 1
        finally:
            await c.close()

    async def window() -> None:
        await asyncio.sleep(max(0.0, window_open - loop.time()))
        cpu0 = time.process_time()
        await asyncio.sleep(max(0.0, deadline - loop.time()))
        result.client_cpu_s = [time.process_time() - cpu0]

    try:
        await asyncio.gather(window(), *(agent_loop(a, off) for a, off in spec.agents))
    finally:
        if shared is not None:
            await shared.aclose()
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
