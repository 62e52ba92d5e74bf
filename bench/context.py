"""What every part of a run shares: options, connections, clients, the running servers.

`Ctx.slice` is the one way a part measures: load one server for a window and turn what the
clients and the counters saw into a figure (a plain dict, saved as it is).
"""

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench import infra as infra_mod
from bench import load, servers, work
from bench.clients import Clients
from bench.counters import Counters
from bench.infra import Infra, LogFn
from bench.load import Kind, LoadResult, Target
from bench.seed import Agent, World

# A client process busier than this share of a core may be what limits the figure.
CLIENT_BUSY_LIMIT = 0.85


@dataclass
class Ctx:
    args: argparse.Namespace
    infra: Infra
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    counters: Counters
    clients: Clients
    world: World
    log: LogFn
    raw_dir: Path
    running: dict[Kind, servers.Server] = field(default_factory=dict)

    async def slice(
        self,
        kind: Kind,
        assignment_id: int,
        agents: list[Agent],
        *,
        seconds: float,
        warmup: float,
        interval: float | None = None,
        python: bool = False,
    ) -> tuple[dict[str, Any], LoadResult]:
        """One measured window; `python` keeps a closed loop on the Python client (a part that
        reads what the answers carry)."""
        server = self.running[kind]
        before = await work.tally(self.engine, kind, assignment_id)
        result = await self.clients.drive(
            Target(kind, server.port, assignment_id),
            agents,
            seconds=seconds,
            warmup=warmup,
            interval=interval,
            on_window=self.counters.window(server.proc.pid),
            health_path=servers.ready_path(kind),
            python=python,
        )
        if server.proc.poll() is not None:
            raise RuntimeError(f"{kind} exited during the run: see {server.log_path}")
        fig = figure(result, self.counters.out)
        fig["work"] = await work.written(
            self.engine, before, kind, assignment_id, result.cycles_done
        )
        return fig, result


def figure(r: LoadResult, counted: dict[str, Any]) -> dict[str, Any]:
    """One slice's figures: throughput, latency of `next` and of the finish, CPU per cycle."""
    n = max(1, r.next_count)
    cpu = {k: round(v * 1000 / n, 3) for k, v in counted.get("cpu_s", {}).items()}
    cpu["client"] = round(sum(r.client_cpu_s) * 1000 / n, 3)
    client_cores = sum(r.client_cpu_s) / r.window_s if r.window_s else 0.0
    out: dict[str, Any] = {
        "window_s": round(r.window_s, 2),
        "next_per_s": round(r.next_per_s, 1),
        "cycles_per_s": round(r.finish_count / r.window_s, 1) if r.window_s else 0.0,
        "next_ms": load.summarize(r.samples),
        "finish_ms": load.summarize(r.finish_samples),
        "next_count": r.next_count,
        "empty": r.empty_count,
        "errors": r.next_errors + r.finish_errors,
        "statuses": dict(r.statuses),
        "sources": dict(r.sources),
        "client_procs": len(r.client_cpu_s),
        "client_busy": round(r.client_busy, 3),
        "client_cores": round(client_cores, 3),
        "client_bound": r.client_busy > CLIENT_BUSY_LIMIT,
        "cpu_ms_per_cycle": cpu,
        # Each server process's CPU seconds in the window, busiest first (workers' balance).
        "server_split": counted.get("server_split", []),
        "redis_commands": counted.get("redis_commands", {}),
        "sql": counted.get("sql", []),
    }
    # Counts per cycle: the server's Redis scripts (one round trip each, or in a pipeline)
    # and commands, and its SQL statements (pg_stat_statements).
    commands = out["redis_commands"]
    scripts = commands["evalsha"]["calls"] if "evalsha" in commands else 0
    out["per_cycle"] = {
        "redis_scripts": round(scripts / n, 2),
        "redis_commands": round(sum(c["calls"] for c in commands.values()) / n, 2),
        "sql_statements": round(sum(q["calls"] for q in out["sql"]) / n, 2),
    }
    if r.lag:
        out["start_lag_ms"] = load.summarize(r.lag)
    return out


class Fleet:
    """Servers started together for a part of the run and stopped at its end."""

    def __init__(self, ctx: Ctx, kinds: list[Kind], *, extra_env: dict[str, str] | None = None):
        self.ctx, self.kinds = ctx, kinds
        self.extra_env = {**ctx.args.server_env, **(extra_env or {})}

    async def __aenter__(self) -> "Fleet":
        try:
            for kind in self.kinds:
                port = infra_mod.free_port()
                profile = self.ctx.raw_dir / f"{kind}-{port}.prof"
                self.ctx.running[kind] = servers.start_server(
                    kind,
                    port,
                    database_url=self.ctx.infra.database_url,
                    redis_url=self.ctx.infra.redis_url,
                    log_dir=self.ctx.raw_dir,
                    workers=self.ctx.args.workers,
                    profile=profile if self.ctx.args.profile else None,
                    extra_env=self.extra_env,
                    root=self.ctx.args.base if kind == "base" else servers.ROOT,
                    http=self.ctx.args.base_http if kind == "base" else self.ctx.args.http,
                )
            for kind in self.kinds:
                server = self.ctx.running[kind]
                await load.wait_ready(server.port, servers.ready_path(kind))
        except BaseException:
            self.stop()
            raise
        ports = ", ".join(f"{k}:{self.ctx.running[k].port}" for k in self.kinds)
        self.ctx.log(
            f"servers up ({self.ctx.args.workers} workers each, {self.ctx.args.http}; base "
            f"{self.ctx.args.base_http}): {ports}"
        )
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        for kind in self.kinds:
            server = self.ctx.running.pop(kind, None)
            if server is not None:
                server.stop()
