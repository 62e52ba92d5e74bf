"""Run the benchmark: floor, ideal, nextcall and peer side by side, then growth, sustained,
import, rebuild and follow-up lateness, in one run.

    nextcall bench [--quick] [--only saturation,realistic,...] [--repeats 3]
    .venv/bin/python -m bench.run ...   (the same)

Writes bench/results/<UTC timestamp>.json and docs/benchmarks.md; server logs go to
bench/results/raw/. See bench/README.md for every option.
"""

import argparse
import importlib.util
import json
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvloop

from bench import infra as infra_mod
from bench import report, seed
from bench.bulk import bulk
from bench.capacity import capacity
from bench.clients import Clients
from bench.compare import KINDS, compare
from bench.connections import connections
from bench.contact import contact
from bench.context import Ctx
from bench.counters import Counters
from bench.growth import growth
from bench.infra import Infra
from bench.lateness import lateness
from bench.machine import calibrate, machine
from bench.servers import ROOT, WORKERS
from bench.sustained import sustained
from services.queue import AssignmentQueue
from shared.infra.db import create_engine, create_sessionmaker
from shared.infra.migrate import upgrade
from shared.infra.redis import create_redis
from shared.infra.settings import Settings

RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"
PARTS = (
    "saturation",
    "realistic",
    "capacity",
    "growth",
    "sustained",
    "connections",
    "import",
    "rebuild",
    "lateness",
    "contact",
)

# name: (full run, --quick). The full values are the issue's; --quick checks that every part
# works in a few minutes, its figures are not worth publishing.
SIZES: dict[str, tuple[Any, Any]] = {
    "customers": (100_000, 20_000),
    "seconds": (20.0, 5.0),
    "repeats": (3, 1),
    "warmup": (3.0, 1.0),
    "slice_warmup": (1.0, 0.5),
    "saturation_agents": ("50,200", "50,200"),
    "realistic_agents": (2000, 2000),
    "realistic_interval": (20.0, 20.0),
    "capacity_agents": (2000, 2000),
    "capacity_rates": ("100,200,300,400,600,800", "100,200"),
    "growth_small": (10_000, 10_000),
    "growth_large": (1_000_000, 100_000),
    "growth_agents": (1, 1),
    "growth_seconds": (20.0, 5.0),
    "sustained_minutes": (10.0, 1.0),
    "sustained_window": (30.0, 10.0),
    "sustained_agents": (50, 50),
    "sustained_repeats": (1, 1),
    "connections_agents": (300, 300),
    "connections_interval": (2.0, 2.0),
    "connections_minutes": (10.0, 0.5),
    "import_rows": (1_000_000, 20_000),
    "lateness_followups": (10_000, 2_000),
    "lateness_within": (600.0, 20.0),
    "lateness_free": (20_000, 5_000),
    "lateness_agents": (200, 50),
    "lateness_drain": (60.0, 30.0),
    "contact_agents": (200, 50),
    "contact_register": (1_000_000, 100_000),
}

_t0 = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - _t0:7.1f}s] {message}", file=sys.stderr, flush=True)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="nextcall bench", description=(__doc__ or "").split("\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes: checks every part works")
    p.add_argument("--only", default=",".join(PARTS), help=f"parts to run, of {','.join(PARTS)}")
    p.add_argument(
        "--servers",
        default=",".join(k for k in KINDS if k != "base"),
        help="servers compared (base: with --base)",
    )
    p.add_argument("--customers", type=int, help="customers of the compared assignment")
    p.add_argument("--seconds", type=float, help="measured seconds per server and slice")
    p.add_argument("--repeats", type=int, help="runs of each figure (median and spread)")
    p.add_argument(
        "--long-repeats",
        type=int,
        help="runs of the long parts (import, rebuild, lateness); default --repeats",
    )
    p.add_argument("--warmup", type=float, help="unmeasured seconds before a server's first slice")
    p.add_argument("--slice-warmup", type=float, help="unmeasured seconds before other slices")
    p.add_argument("--saturation-agents", help="closed-loop agent counts, e.g. 50,200")
    p.add_argument("--realistic-agents", type=int, help="paced agents (0: no realistic shape)")
    p.add_argument("--realistic-interval", type=float, help="seconds between cycles")
    p.add_argument("--capacity-agents", type=int, help="paced agents of the capacity part")
    p.add_argument("--capacity-rates", help="cycles/s stepped up, e.g. 100,200,400")
    p.add_argument("--growth-small", type=int)
    p.add_argument("--growth-large", type=int)
    p.add_argument("--growth-agents", type=int, help="closed-loop agents of growth (1: no queue)")
    p.add_argument("--growth-seconds", type=float)
    p.add_argument("--sustained-minutes", type=float)
    p.add_argument("--connections-agents", type=int)
    p.add_argument("--connections-interval", type=float, help="seconds between an agent's cycles")
    p.add_argument("--connections-minutes", type=float)
    p.add_argument("--sustained-window", type=float, help="seconds per throughput window")
    p.add_argument("--sustained-agents", type=int)
    p.add_argument("--sustained-repeats", type=int, help="default 1: the windows are the repeats")
    p.add_argument(
        "--sustained-servers",
        help="servers of the sustained part, e.g. nextcall (default: nextcall and peer)",
    )
    p.add_argument("--import-rows", type=int, help="rows of the imported CSV (and rebuilt)")
    p.add_argument("--lateness-followups", type=int)
    p.add_argument("--lateness-within", type=float, help="seconds over which they fall due")
    p.add_argument("--lateness-free", type=int, help="free customers beside the follow-ups")
    p.add_argument("--lateness-agents", type=int)
    p.add_argument("--lateness-drain", type=float, help="seconds of work after the last is due")
    p.add_argument(
        "--lateness-rate",
        type=float,
        help="cycles/s of the lateness agents (open loop); default half of nextcall's "
        "saturation rate at the most agents measured in this run, else a closed loop",
    )
    p.add_argument("--contact-agents", type=int, help="closed-loop agents of the contact part")
    p.add_argument("--contact-register", type=int, help="numbers in the contact part's register")
    p.add_argument("--workers", type=int, default=WORKERS, help="uvicorn workers per server")
    p.add_argument(
        "--http",
        choices=("uvicorn", "granian"),
        default="uvicorn",
        help="HTTP server of every compared server",
    )
    p.add_argument(
        "--base-http",
        choices=("uvicorn", "granian"),
        help="HTTP server of 'base' (default --http): --base . --base-http granian compares "
        "the two servers with the same app in one run",
    )
    p.add_argument("--client-procs", type=int, default=2, help="load client processes")
    p.add_argument(
        "--client",
        choices=("wrk", "raw", "httpx"),
        default="wrk",
        help="closed loops' load client: wrk (C), or the Python client (raw HTTP/1.1 or "
        "httpx), which also drives open loops",
    )
    p.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NEXTCALL_KEY=VALUE",
        help="a setting for every server alike, e.g. NEXTCALL_DB_POOL_SIZE=60 (repeatable)",
    )
    p.add_argument("--profile", action="store_true", help="cProfile each server (1 worker)")
    p.add_argument(
        "--base",
        type=Path,
        help="another checkout of nextcall (e.g. a git worktree of an earlier commit), run as "
        "server 'base' beside this one in the same slices; it must share the database schema",
    )
    p.add_argument("--out", type=Path, help="results JSON (default bench/results/<time>.json)")
    p.add_argument("--raw-dir", type=Path, default=RESULTS / "raw", help="server logs, CSVs")
    p.add_argument("--doc", type=Path, default=DOC, help="the page written")
    p.add_argument("--no-doc", action="store_true", help="do not write the page")
    args = p.parse_args(argv)
    for name, (full, quick) in SIZES.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    args.only = {x for x in args.only.split(",") if x}
    args.servers = [x for x in args.servers.split(",") if x]
    args.saturation_agents = [int(x) for x in str(args.saturation_agents).split(",") if x]
    args.capacity_rates = sorted(float(x) for x in str(args.capacity_rates).split(",") if x)
    if "saturation" not in args.only:
        args.saturation_agents = []
    if "realistic" not in args.only:
        args.realistic_agents = 0
    for x in args.only - set(PARTS):
        p.error(f"unknown part {x}")
    if args.base is not None:
        args.base = args.base.resolve()
        if not (args.base / "services" / "api" / "app.py").is_file():
            p.error(f"--base {args.base} is not a nextcall checkout")
        if "base" not in args.servers:
            args.servers.append("base")
    elif "base" in args.servers:
        p.error("server 'base' needs --base PATH")
    args.base_http = args.base_http or args.http
    # granian is measured, not a dependency of the project (decision 038).
    if "granian" in (args.http, args.base_http) and importlib.util.find_spec("granian") is None:
        p.error("granian is not installed: pip install granian")
    for x in set(args.servers) - set(KINDS):
        p.error(f"unknown server {x}")
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    if args.long_repeats is None:
        args.long_repeats = args.repeats
    if args.long_repeats < 1:
        p.error("--long-repeats must be at least 1")
    if args.sustained_servers is None:
        args.sustained_servers = [x for x in ("nextcall", "peer") if x in args.servers]
    else:
        args.sustained_servers = [x for x in args.sustained_servers.split(",") if x]
    for x in set(args.sustained_servers) - set(args.servers):
        p.error(f"--sustained-servers: {x} is not among --servers")
    env: dict[str, str] = {}
    for item in args.server_env:
        key, sep, value = item.partition("=")
        if not sep or not key.startswith("NEXTCALL_"):
            p.error(f"--server-env wants NEXTCALL_KEY=VALUE, not {item!r}")
        env[key] = value
    args.server_env = env
    return args


def parameters(args: argparse.Namespace) -> dict[str, Any]:
    names = [*SIZES, "workers", "client_procs", "client", "server_env", "quick", "servers"]
    names += ["http", "base_http", "long_repeats", "sustained_servers"]
    out = {name: getattr(args, name) for name in names}
    out["only"] = [x for x in PARTS if x in args.only]
    return out


async def release_all(ctx: Ctx, assignment_ids: list[int]) -> None:
    """No lease left over from an earlier part (agents finish their cycles; this is a net)."""
    await seed.reset_pg_copy(ctx.engine)
    for a in assignment_ids:
        queue = AssignmentQueue(ctx.redis, a)
        for cid in await queue.holders():
            await queue.release(cid, user_id=0, force=True)


async def bench(args: argparse.Namespace, infra: Infra, results: dict[str, Any]) -> None:
    settings = Settings(database_url=infra.database_url, redis_url=infra.redis_url)
    engine = create_engine(settings, process_name="bench")
    redis = create_redis(settings, process_name="bench")
    args.raw_dir.mkdir(parents=True, exist_ok=True)
    try:
        sessionmaker = create_sessionmaker(engine)
        counters = Counters(engine, redis, infra, log)
        await counters.setup()
        most = max(
            *args.saturation_agents,
            args.realistic_agents,
            args.capacity_agents if "capacity" in args.only else 0,
            args.growth_agents,
            args.sustained_agents,
            args.connections_agents,
            args.lateness_agents,
            args.contact_agents,
        )
        world = await seed.create_world(sessionmaker, most)
        with Clients(args.client_procs, client=args.client) as clients:
            ctx = Ctx(
                args,
                infra,
                engine,
                sessionmaker,
                redis,
                counters,
                clients,
                world,
                log,
                raw_dir=args.raw_dir,
            )
            await parts(ctx, results)
    finally:
        await redis.aclose()
        await engine.dispose()


async def parts(ctx: Ctx, results: dict[str, Any]) -> None:
    args = ctx.args
    uses_main = {"sustained", "connections", "capacity"} & args.only
    if args.saturation_agents or args.realistic_agents or uses_main:
        main_id = await seed.create_assignment(ctx.sessionmaker, ctx.world, "Bench main")
        started = time.perf_counter()
        await seed.insert_customers(ctx.engine, ctx.world.tenant_id, main_id, args.customers)
        insert_s = time.perf_counter() - started
        place_s = await seed.place(ctx.sessionmaker, ctx.redis, main_id)
        await seed.copy_queue(ctx.redis, main_id, main_id + seed.REDIS_ONLY_OFFSET)
        await seed.create_pg_copy(ctx.engine, main_id)
        log(f"set-up: {args.customers:,} customers in {insert_s:.1f} s, placed in {place_s:.1f} s")
        results["setup"] = {
            "customers": args.customers,
            "insert_s": round(insert_s, 2),
            "place_s": round(place_s, 2),
        }
        queues = [main_id, main_id + seed.REDIS_ONLY_OFFSET]
        if args.saturation_agents or args.realistic_agents:
            results["compare"] = await compare(ctx, main_id)
        if "capacity" in args.only:
            await release_all(ctx, queues)
            results["capacity"] = await capacity(ctx, main_id)
        if "sustained" in args.only:
            await release_all(ctx, queues)
            results["sustained"] = await sustained(ctx, main_id)
        if "connections" in args.only:
            await release_all(ctx, queues)
            results["connections"] = await connections(ctx, main_id)
    if "growth" in args.only:
        results["growth"] = await growth(ctx)
    if "contact" in args.only:
        results["contact"] = await contact(ctx)
    if "lateness" in args.only:
        results["lateness"] = await lateness(ctx, lateness_rate(args, results))
    if {"import", "rebuild"} & args.only:
        results.update(await bulk(ctx, args.only))


def lateness_rate(args: argparse.Namespace, results: dict[str, Any]) -> float | None:
    """The lateness part's cycles/s: as asked, or half of nextcall's saturation rate with
    the most agents in this run (issue 18), or None (a closed loop)."""
    if args.lateness_rate is not None:
        return args.lateness_rate or None
    if not args.saturation_agents:
        return None
    shape = results.get("compare", {}).get(f"saturation-{max(args.saturation_agents)}", {})
    rate = shape.get("servers", {}).get("nextcall", {}).get("next_per_s", {}).get("median")
    return rate / 2 if rate else None


def default_out(date: datetime) -> Path:
    return RESULTS / f"{date.strftime('%Y%m%dT%H%M%SZ')}.json"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    infra_mod.install_signal_handlers()
    started = time.monotonic()
    date = datetime.now(UTC)
    results: dict[str, Any] = {
        "date": date.isoformat(timespec="seconds"),
        "machine": machine(),
        "parameters": parameters(args),
        "loadavg_before": list(os.getloadavg()),
    }
    with infra_mod.start(log) as infra:
        results["versions"] = infra.versions
        log("migrating")
        upgrade(Settings(database_url=infra.database_url))
        results["calibration"] = calibrate(infra)
        uvloop.run(bench(args, infra, results))
    results["loadavg_after"] = list(os.getloadavg())
    results["duration_s"] = round(time.monotonic() - started, 1)
    results["targets"] = report.verdicts(results)
    out: Path = args.out or default_out(date)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    log(f"results written to {out}")
    if not args.no_doc:
        args.doc.write_text(report.render(results, results_path=out))
        log(f"summary written to {args.doc}")
    for t in results["targets"]:
        log(f"target {t['name']}: {t['measured']} (wanted {t['wanted']}): {t['verdict']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
