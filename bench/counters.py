"""What the servers' peers did in a measured window: CPU by process, Redis commands, SQL.

Read around each slice (`window` is awaited when the window opens and when it closes), so a
figure can be explained: where the CPU of a cycle went, how many Redis commands and SQL
statements one cycle cost.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import servers
from bench.infra import Infra, LogFn


class Counters:
    def __init__(self, engine: AsyncEngine, redis: Redis, infra: Infra, log: LogFn) -> None:
        self.engine, self.redis, self.infra, self.log = engine, redis, infra, log
        self.has_pgss = False
        self.out: dict[str, Any] = {}

    async def setup(self) -> None:
        try:
            async with self.engine.begin() as conn:
                await conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
                await conn.execute(text("SELECT pg_stat_statements_reset()"))
            self.has_pgss = True
        except Exception as exc:  # reused server without the extension: skip SQL statistics
            self.log(f"no pg_stat_statements ({type(exc).__name__}); SQL statistics skipped")

    def window(self, server_pid: int) -> Callable[[bool], Awaitable[None]]:
        """The server is its supervisor and workers; PostgreSQL its postmaster and backends."""
        groups: dict[str, tuple[int, bool]] = {"server": (server_pid, True)}
        if self.infra.postmaster_pid:
            groups["postgresql"] = (self.infra.postmaster_pid, True)
        if self.infra.redis_pid:
            groups["redis"] = (self.infra.redis_pid, False)
        meter = servers.CpuMeter(groups)

        async def on_window(opening: bool) -> None:
            if opening:
                self.out = {}
                await self.redis.config_resetstat()
                if self.has_pgss:
                    async with self.engine.begin() as conn:
                        await conn.execute(text("SELECT pg_stat_statements_reset()"))
                meter.start()
            else:
                meter.stop()
                self.out["cpu_s"] = dict(meter.used)
                self.out["server_split"] = meter.split.get("server", [])
                self.out["redis_commands"] = await self._redis_commands()
                if self.has_pgss:
                    self.out["sql"] = await self._sql()

        return on_window

    async def _redis_commands(self) -> dict[str, dict[str, float]]:
        raw = await self.redis.info("commandstats")
        out = {}
        for key, value in raw.items():
            name = key.removeprefix("cmdstat_")
            if name in ("config", "info"):
                continue
            out[name] = {"calls": int(value["calls"]), "usec_per_call": value["usec_per_call"]}
        return out

    async def _sql(self) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT query, calls, total_exec_time, mean_exec_time "
                        "FROM pg_stat_statements WHERE dbid = "
                        "(SELECT oid FROM pg_database WHERE datname = current_database()) "
                        "AND query NOT ILIKE '%pg_stat%' ORDER BY calls DESC LIMIT 10"
                    )
                )
            ).all()
            await conn.rollback()
        return [
            {
                "query": " ".join(str(r[0]).split())[:160],
                "calls": int(r[1]),
                "mean_ms": round(float(r[3]), 4),
            }
            for r in rows
        ]
