"""Run the benchmark: ours vs the PostgreSQL and redis-only baselines, then cost growth.

    .venv/bin/python -m bench.run [--agents N --seconds S --customers C]

Writes bench/results/latest.json and docs/benchmark.md; server logs go to bench/results/raw/.
"""

import argparse
import json
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import redis as redis_sync
import uvloop
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench import infra as infra_mod
from bench import load, report, seed, servers
from bench.infra import Infra
from bench.load import LoadResult, Mode, Target
from services.queue import AssignmentQueue
from shared.db import create_engine, create_sessionmaker
from shared.migrate import upgrade
from shared.redis import create_redis
from shared.settings import Settings

ROOT = servers.ROOT
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmark.md"
SERVER_ORDER = ("ours", "pg", "redis-only")
# Place 1M customers for the cost-growth scenario only when the measured placement rate
# says it takes less than this; otherwise fall back to GROWTH_FALLBACK customers.
GROWTH_PLACE_BUDGET_S = 120.0
GROWTH_FALLBACK = 200_000
TARGETS = {"ours_over_pg": 2.0, "ours_over_redis_only": 0.5, "growth_p99_ratio": 1.3}

T = TypeVar("T")
_t0 = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - _t0:7.1f}s] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    p.add_argument("--agents", type=int, default=50, help="concurrent agents (default 50)")
    p.add_argument("--seconds", type=float, default=20.0, help="measured seconds per server")
    p.add_argument("--customers", type=int, default=100_000, help="customers in the assignment")
    p.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds per server first")
    p.add_argument(
        "--rounds",
        type=int,
        default=4,
        help="the measured seconds are split in this many slices per server, taken in turns",
    )
    p.add_argument(
        "--slice-warmup", type=float, default=0.5, help="unmeasured seconds before each slice"
    )
    p.add_argument(
        "--modes",
        default="release,outcome",
        help="cycles to run: release (next + release) and/or outcome (next + outcome)",
    )
    p.add_argument("--servers", default=",".join(SERVER_ORDER), help="which servers, in order")
    p.add_argument("--client", choices=("raw", "httpx"), default="raw", help="load client")
    p.add_argument("--no-growth", action="store_true", help="skip the cost-growth scenario")
    p.add_argument("--growth-small", type=int, default=10_000)
    p.add_argument("--growth-large", type=int, default=1_000_000)
    p.add_argument(
        "--growth-agents",
        type=int,
        default=1,
        help="agents of the growth scenario (default 1: one request in flight, no queueing)",
    )
    p.add_argument(
        "--growth-interval",
        type=float,
        default=None,
        help="pace each growth agent to one cycle per this many seconds (default: closed loop)",
    )
    p.add_argument("--growth-seconds", type=float, default=None, help="default: --seconds")
    p.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmark.md")
    p.add_argument(
        "--profile",
        action="store_true",
        help="run each server under cProfile (bench/results/raw/*.prof); skews every figure",
    )
    p.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NEXTCALL_KEY=VALUE",
        help="a setting for every server alike, e.g. NEXTCALL_DB_POOL_SIZE=60 (repeatable)",
    )
    p.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    args = p.parse_args(argv)
    args.modes = [m for m in args.modes.split(",") if m]
    args.servers = [s for s in args.servers.split(",") if s]
    for m in args.modes:
        if m not in ("release", "outcome"):
            p.error(f"unknown mode {m}")
    for s in args.servers:
        if s not in SERVER_ORDER:
            p.error(f"unknown server {s}")
    env: dict[str, str] = {}
    for item in args.server_env:
        key, sep, value = item.partition("=")
        if not sep or not key.startswith("NEXTCALL_"):
            p.error(f"--server-env wants NEXTCALL_KEY=VALUE, not {item!r}")
        env[key] = value
    args.server_env = env
    if args.growth_seconds is None:
        args.growth_seconds = args.seconds
    return args


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return info


def calibrate(infra: Infra) -> dict[str, float]:
    """How fast this machine is at what /next is made of: Python and loopback round trips.

    Absolute figures of different machines compare only through numbers like these.
    """
    out: dict[str, float] = {}
    c0 = time.process_time()
    x = 0
    for i in range(1_000_000):
        x += i
    out["python_1m_adds_ms"] = round((time.process_time() - c0) * 1000, 1)
    client = redis_sync.Redis.from_url(infra.redis_url)
    conninfo = infra.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for name, call in (
            ("redis_ping", client.ping),
            ("pg_empty_query", lambda: conn.execute(";")),
        ):
            for _ in range(200):
                call()
            c0, w0 = time.process_time(), time.perf_counter()
            for _ in range(2000):
                call()
            out[f"{name}_wall_us"] = round((time.perf_counter() - w0) / 2000 * 1e6, 1)
            out[f"{name}_client_cpu_us"] = round((time.process_time() - c0) / 2000 * 1e6, 1)
    client.close()
    return out


class Stats:
    """What the servers' peers did in a measured window: CPU, Redis commands, SQL statements."""

    def __init__(self, engine: AsyncEngine, redis: Redis, infra: Infra) -> None:
        self.engine, self.redis, self.infra = engine, redis, infra
        self.has_pgss = False
        self.meter: servers.CpuMeter | None = None
        self.out: dict[str, Any] = {}

    async def setup(self) -> None:
        try:
            async with self.engine.begin() as conn:
                await conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
                await conn.execute(text("SELECT pg_stat_statements_reset()"))
            self.has_pgss = True
        except Exception as exc:  # reused server without the extension: skip SQL statistics
            log(f"no pg_stat_statements ({type(exc).__name__}); SQL statistics skipped")

    def window(self, server_pid: int) -> Callable[[bool], Awaitable[None]]:
        groups: dict[str, tuple[int, bool]] = {"server": (server_pid, False)}
        if self.infra.postmaster_pid:
            groups["postgresql"] = (self.infra.postmaster_pid, True)
        if self.infra.redis_pid:
            groups["redis"] = (self.infra.redis_pid, False)
        meter = servers.CpuMeter(groups)

        async def on_window(opening: bool) -> None:
            if opening:
                self.out = {"pg_sessions": -await self._sessions()}
                await self.redis.config_resetstat()
                if self.has_pgss:
                    async with self.engine.begin() as conn:
                        await conn.execute(text("SELECT pg_stat_statements_reset()"))
                meter.start()
            else:
                meter.stop()
                self.out["pg_sessions"] += await self._sessions()
                self.out["cpu_s"] = dict(meter.used)
                self.out["redis_commands"] = await self._redis_commands()
                if self.has_pgss:
                    self.out["sql"] = await self._sql()

        return on_window

    async def _sessions(self) -> int:
        """Sessions ever opened on the database (PostgreSQL 14+), to see connection churn."""
        async with self.engine.connect() as conn:
            found = await conn.scalar(
                text("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
            )
            await conn.rollback()
        return int(found or 0)

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
                        "AND query NOT ILIKE '%pg_stat%' ORDER BY calls DESC LIMIT 15"
                    )
                )
            ).all()
            await conn.rollback()
        return [
            {
                "query": " ".join(str(r[0]).split())[:160],
                "calls": int(r[1]),
                "mean_ms": round(float(r[3]), 4),
                "total_ms": round(float(r[2]), 1),
            }
            for r in rows
        ]


def target_for(name: str, port: int, assignment_id: int) -> Target:
    if name == "ours":
        return load.ours(port, assignment_id)
    if name == "redis-only":
        return load.baseline(name, port, assignment_id + seed.REDIS_ONLY_OFFSET)
    return load.baseline(name, port, assignment_id)


@dataclass
class Tally:
    """One server's slices of one scenario, added up."""

    name: str
    mode: Mode
    agents: int
    interval_s: float | None = None
    window_s: float = 0.0
    counts: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)
    samples: list[float] = field(default_factory=list)
    finish_samples: list[float] = field(default_factory=list)
    client_cpu_s: float = 0.0
    cpu_s: Counter[str] = field(default_factory=Counter)
    redis_calls: Counter[str] = field(default_factory=Counter)
    redis_usec: Counter[str] = field(default_factory=Counter)
    sql_calls: Counter[str] = field(default_factory=Counter)
    sql_ms: Counter[str] = field(default_factory=Counter)
    slices: list[float] = field(default_factory=list)

    def add(self, r: LoadResult, st: dict[str, Any]) -> None:
        self.window_s += r.window_s
        self.counts.update(
            next=r.next_count,
            finish=r.finish_count,
            empty=r.empty_count,
            next_errors=r.next_errors,
            finish_errors=r.finish_errors,
        )
        self.statuses.update(r.statuses)
        self.sources.update(r.sources)
        self.samples.extend(r.samples)
        self.finish_samples.extend(r.finish_samples)
        self.client_cpu_s += r.client_cpu_s
        self.cpu_s.update(st.get("cpu_s", {}))
        self.counts["pg_sessions"] += max(0, int(st.get("pg_sessions", 0)))
        for cmd, v in st.get("redis_commands", {}).items():
            self.redis_calls[cmd] += v["calls"]
            self.redis_usec[cmd] += v["calls"] * v["usec_per_call"]
        for q in st.get("sql", []):
            self.sql_calls[q["query"]] += q["calls"]
            self.sql_ms[q["query"]] += q["total_ms"]
        self.slices.append(round(r.next_per_s, 1))

    @property
    def next_per_s(self) -> float:
        return self.counts["next"] / self.window_s if self.window_s else 0.0

    def as_dict(self) -> dict[str, Any]:
        n = max(1, self.counts["next"])
        cpu = {k: round(v * 1000 / n, 3) for k, v in self.cpu_s.items()}
        cpu["client"] = round(self.client_cpu_s * 1000 / n, 3)
        return {
            "server": self.name,
            "mode": self.mode,
            "agents": self.agents,
            "interval_s": self.interval_s,
            "window_s": round(self.window_s, 2),
            "next_per_s": round(self.next_per_s, 1),
            "slices_next_per_s": self.slices,
            "next_count": self.counts["next"],
            "finish_count": self.counts["finish"],
            "empty_count": self.counts["empty"],
            "next_errors": self.counts["next_errors"],
            "finish_errors": self.counts["finish_errors"],
            "pg_sessions_opened": self.counts["pg_sessions"],
            "statuses": dict(self.statuses),
            "sources": dict(self.sources),
            "next_latency_ms": load.summarize(self.samples),
            "finish_latency_ms": load.summarize(self.finish_samples),
            "cpu_s": {k: round(v, 3) for k, v in self.cpu_s.items()},
            "client_cpu_s": round(self.client_cpu_s, 3),
            "cpu_ms_per_next": cpu,
            "redis_commands": {
                cmd: {
                    "calls": calls,
                    "usec_per_call": round(self.redis_usec[cmd] / calls, 2) if calls else 0.0,
                }
                for cmd, calls in self.redis_calls.most_common()
            },
            "sql": [
                {
                    "query": q,
                    "calls": calls,
                    "total_ms": round(self.sql_ms[q], 1),
                    "mean_ms": round(self.sql_ms[q] / calls, 4) if calls else 0.0,
                }
                for q, calls in self.sql_calls.most_common(15)
            ],
        }

    def line(self) -> str:
        lat = load.summarize(self.samples)
        cpu = self.as_dict()["cpu_ms_per_next"]
        return (
            f"{self.name:10s} {self.mode:7s} {self.next_per_s:8.1f} next/s  "
            f"p50 {lat.get('p50', 0):6.2f} p90 {lat.get('p90', 0):6.2f} "
            f"p99 {lat.get('p99', 0):6.2f} ms  "
            f"errors {self.counts['next_errors']}+{self.counts['finish_errors']}  cpu ms/next {cpu}"
        )


class Fleet:
    """The servers of a phase, started together and loaded one at a time (idle ones sleep)."""

    def __init__(
        self, infra: Infra, names: list[str], *, profile: bool, extra_env: dict[str, str]
    ) -> None:
        self.infra, self.names, self.profile = infra, names, profile
        self.extra_env = extra_env
        self.running: dict[str, servers.Server] = {}

    async def __aenter__(self) -> "Fleet":
        try:
            for name in self.names:
                port = infra_mod.free_port()
                self.running[name] = servers.start_server(
                    name,
                    port,
                    database_url=self.infra.database_url,
                    redis_url=self.infra.redis_url,
                    log_dir=RESULTS / "raw",
                    profile=RESULTS / "raw" / f"{name}-{port}.prof" if self.profile else None,
                    extra_env=self.extra_env,
                )
            for name, server in self.running.items():
                await load.wait_ready(server.port, servers.ready_path(name))
        except BaseException:
            self.stop()
            raise
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        for server in self.running.values():
            server.stop()

    async def slice(
        self,
        name: str,
        stats: Stats,
        agents: list[seed.Agent],
        *,
        assignment_id: int,
        mode: Mode,
        seconds: float,
        warmup: float,
        client: str,
        interval: float | None = None,
    ) -> tuple[LoadResult, dict[str, Any]]:
        server = self.running[name]
        result = await load.run_load(
            target_for(name, server.port, assignment_id),
            agents,
            mode=mode,
            seconds=seconds,
            warmup=warmup,
            interval=interval,
            client=client,
            on_window=stats.window(server.proc.pid),
        )
        if server.proc.poll() is not None:
            raise RuntimeError(f"{name} exited during the run: see {server.log_path}")
        return result, dict(stats.out)


async def reset(engine: AsyncEngine, redis: Redis, assignment_ids: list[int]) -> None:
    """Between scenarios: no lease left anywhere, dead rows vacuumed."""
    await seed.reset_pg_copy(engine)
    for a in assignment_ids:
        queue = AssignmentQueue(redis, a)
        held = await redis.zrange(queue.key("lease"), 0, -1)
        for cid in held:
            await queue.release(int(str(cid)), user_id=0, force=True)


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def rotated(names: list[T], by: int) -> list[T]:
    by %= max(1, len(names))
    return names[by:] + names[:by]


async def bench(args: argparse.Namespace, infra: Infra, results: dict[str, Any]) -> None:
    settings = Settings(database_url=infra.database_url, redis_url=infra.redis_url)
    engine = create_engine(settings, process_name="bench")
    sessionmaker: async_sessionmaker[AsyncSession] = create_sessionmaker(engine)
    redis = create_redis(settings, process_name="bench")
    try:
        stats = Stats(engine, redis, infra)
        await stats.setup()
        world = await seed.create_world(sessionmaker, max(args.agents, args.growth_agents))
        agents = world.agents[: args.agents]

        # The main assignment, its copy for the redis-only baseline, and the pg baseline's table.
        main_id = await seed.create_assignment(sessionmaker, world, "Bench main")
        started = time.perf_counter()
        await seed.insert_customers(engine, world.tenant_id, main_id, args.customers)
        insert_s = time.perf_counter() - started
        place_s = await seed.place(sessionmaker, redis, main_id)
        await seed.copy_queue(redis, main_id, main_id + seed.REDIS_ONLY_OFFSET)
        await seed.create_pg_copy(engine, main_id)
        rate = args.customers / place_s if place_s else 0.0
        log(
            f"set-up: {args.customers} customers inserted in {insert_s:.1f}s, "
            f"placed in {place_s:.1f}s ({rate:.0f}/s)"
        )
        results["setup"] = {
            "customers": args.customers,
            "insert_s": round(insert_s, 2),
            "place_s": round(place_s, 2),
            "place_per_s": round(rate),
        }
        results["saturation"], results["ratios"], results["round_ratios"] = await saturation(
            args, infra, stats, engine, redis, agents, main_id
        )
        if not args.no_growth:
            results["growth"] = await growth(
                args, infra, stats, engine, sessionmaker, redis, world, results
            )
    finally:
        await redis.aclose()
        await engine.dispose()


async def saturation(
    args: argparse.Namespace,
    infra: Infra,
    stats: Stats,
    engine: AsyncEngine,
    redis: Redis,
    agents: list[seed.Agent],
    main_id: int,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Every server in every mode, in rounds of slices that rotate the servers' order."""
    queues = [main_id, main_id + seed.REDIS_ONLY_OFFSET]
    out: dict[str, dict[str, Any]] = {}
    ratios: dict[str, dict[str, float | None]] = {}
    per_round: dict[str, dict[str, list[float | None]]] = {}
    slice_s = args.seconds / args.rounds
    async with Fleet(infra, args.servers, profile=args.profile, extra_env=args.server_env) as fleet:
        log(f"servers up: {', '.join(f'{n}:{s.port}' for n, s in fleet.running.items())}")
        for mode in args.modes:
            await reset(engine, redis, queues)
            tallies = {n: Tally(n, mode, len(agents)) for n in args.servers}
            for name in args.servers:  # warm-up pass: connections, caches, JIT-free but cold
                await fleet.slice(
                    name,
                    stats,
                    agents,
                    assignment_id=main_id,
                    mode=mode,
                    seconds=0.0,
                    warmup=args.warmup,
                    client=args.client,
                )
            for round_no in range(args.rounds):
                for name in rotated(args.servers, round_no):
                    result, st = await fleet.slice(
                        name,
                        stats,
                        agents,
                        assignment_id=main_id,
                        mode=mode,
                        seconds=slice_s,
                        warmup=args.slice_warmup,
                        client=args.client,
                    )
                    tallies[name].add(result, st)
            for tally in tallies.values():
                log(tally.line())
            out[mode] = {n: t.as_dict() for n, t in tallies.items()}
            if "ours" in tallies:
                ours = tallies["ours"]
                ratios[mode] = {}
                per_round[mode] = {}
                for peer, key in (("pg", "ours_over_pg"), ("redis-only", "ours_over_redis_only")):
                    if peer in tallies:
                        ratios[mode][key] = ratio(ours.next_per_s, tallies[peer].next_per_s)
                        per_round[mode][key] = [
                            ratio(a, b)
                            for a, b in zip(ours.slices, tallies[peer].slices, strict=True)
                        ]
                log(f"ratios ({mode}): {ratios[mode]}  per round: {per_round[mode]}")
    await reset(engine, redis, queues)
    return out, ratios, per_round


async def growth(
    args: argparse.Namespace,
    infra: Infra,
    stats: Stats,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    world: seed.World,
    results: dict[str, Any],
) -> dict[str, Any]:
    """/next latency of ours at a paced load, in a small and a large assignment."""
    place_rate = float(results.get("setup", {}).get("place_per_s", 0.0))
    large = args.growth_large
    note = ""
    estimate = large / place_rate if place_rate else float("inf")
    if estimate >= GROWTH_PLACE_BUDGET_S and large > GROWTH_FALLBACK:
        note = (
            f"placing {large:,} customers was estimated at {estimate:.0f} s from the measured "
            f"rate, over the {GROWTH_PLACE_BUDGET_S:.0f} s budget: {GROWTH_FALLBACK:,} used "
            "instead"
        )
        log(note)
        large = GROWTH_FALLBACK
    sizes: dict[str, dict[str, Any]] = {}
    ids: dict[int, int] = {}
    for n in (args.growth_small, large):
        a = await seed.create_assignment(sessionmaker, world, f"Bench growth {n}")
        started = time.perf_counter()
        await seed.insert_customers(engine, world.tenant_id, a, n)
        insert_s = time.perf_counter() - started
        place_s = await seed.place(sessionmaker, redis, a)
        log(f"growth: {n} customers inserted in {insert_s:.1f}s, placed in {place_s:.1f}s")
        ids[n] = a
        sizes[str(n)] = {"insert_s": round(insert_s, 2), "place_s": round(place_s, 2)}
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE memberships"))
        await conn.execute(text("VACUUM ANALYZE customers"))

    agents = world.agents[: args.growth_agents]
    interval = args.growth_interval
    pacing = f"paced to one cycle per {interval} s" if interval else "closed loop"
    log(f"growth: {len(agents)} agent(s), {pacing}")
    tallies = {n: Tally("ours", "release", len(agents), interval_s=interval) for n in ids}
    slice_s = args.growth_seconds / args.rounds
    async with Fleet(infra, ["ours"], profile=False, extra_env=args.server_env) as fleet:
        for n in ids:  # warm-up on each assignment
            await fleet.slice(
                "ours",
                stats,
                agents,
                assignment_id=ids[n],
                mode="release",
                seconds=0.0,
                warmup=args.warmup,
                client=args.client,
                interval=interval,
            )
        # Alternate the sizes, so drift on a noisy machine hits both alike.
        for round_no in range(args.rounds):
            for n in rotated(list(ids), round_no):
                result, st = await fleet.slice(
                    "ours",
                    stats,
                    agents,
                    assignment_id=ids[n],
                    mode="release",
                    seconds=slice_s,
                    warmup=args.slice_warmup,
                    client=args.client,
                    interval=interval,
                )
                tallies[n].add(result, st)
    for n, tally in tallies.items():
        d = tally.as_dict()
        log(f"growth {n}: {tally.line()}")
        sizes[str(n)].update(
            {
                "next_latency_ms": d["next_latency_ms"],
                "next_per_s": d["next_per_s"],
                "errors": d["next_errors"] + d["finish_errors"],
                "evalsha_usec_per_call": d["redis_commands"]
                .get("evalsha", {})
                .get("usec_per_call"),
                "cpu_ms_per_next": d["cpu_ms_per_next"],
            }
        )
    small, big = sizes[str(args.growth_small)], sizes[str(large)]
    out: dict[str, Any] = {
        "small": args.growth_small,
        "large": large,
        "note": note,
        "interval_s": interval,
        "agents": len(agents),
        "sizes": sizes,
        "p50_ratio": ratio(big["next_latency_ms"]["p50"], small["next_latency_ms"]["p50"]),
        "p99_ratio": ratio(big["next_latency_ms"]["p99"], small["next_latency_ms"]["p99"]),
        "evalsha_ratio": ratio(
            big["evalsha_usec_per_call"] or 0.0, small["evalsha_usec_per_call"] or 0.0
        ),
    }
    log(
        f"growth: p50 ratio {out['p50_ratio']}, p99 ratio {out['p99_ratio']}, "
        f"claim script ratio {out['evalsha_ratio']}"
    )
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    infra_mod.install_signal_handlers()
    started = time.monotonic()
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "parameters": {
            "agents": args.agents,
            "seconds": args.seconds,
            "warmup": args.warmup,
            "rounds": args.rounds,
            "slice_warmup": args.slice_warmup,
            "customers": args.customers,
            "modes": args.modes,
            "servers": args.servers,
            "client": args.client,
            "growth": not args.no_growth,
            "growth_small": args.growth_small,
            "growth_large": args.growth_large,
            "growth_agents": args.growth_agents,
            "growth_interval": args.growth_interval,
            "server_env": args.server_env,
            "growth_seconds": args.growth_seconds,
        },
        "targets": TARGETS,
        "loadavg_before": list(os.getloadavg()),
    }
    with infra_mod.start(log) as infra:
        results["versions"] = infra.versions
        log("migrating")
        upgrade(Settings(database_url=infra.database_url))
        results["calibration"] = calibrate(infra)
        log(f"calibration: {results['calibration']}")
        uvloop.run(bench(args, infra, results))
    results["loadavg_after"] = list(os.getloadavg())
    results["duration_s"] = round(time.monotonic() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
    log(f"results written to {args.out}")
    if not args.no_doc:
        DOC.write_text(report.render(results))
        log(f"summary written to {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
