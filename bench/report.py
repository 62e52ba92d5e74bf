"""docs/benchmarks.md, rendered from one run's results, and the verdict on each target."""

import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from bench.servers import ROOT

Fig = dict[str, Any]


def _get(res: Fig, *path: str) -> Any:
    node: Any = res
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


class Target(NamedTuple):
    """A target of issue 18: where its figure is, the test, how it is wanted, the parameter
    and the size it assumes; `judged` is the statistic the verdict is taken on ("min": the
    target holds in every repeat); `repeats` the parameter that counts its runs (the long
    parts may be run fewer times than the rest)."""

    name: str
    path: tuple[str, ...]
    ok: Callable[[float], bool]
    wanted: str
    param: str
    size: Any
    judged: str = "median"
    repeats: str = "repeats"


TARGETS: list[Target] = [
    Target(
        "saturation 200 agents: nextcall ÷ peer (next/s), every repeat",
        ("compare", "saturation-200", "ratios", "nextcall/peer"),
        lambda v: v >= 3.0,
        "≥ 3",
        "saturation_agents",
        200,
        judged="min",
    ),
    Target(
        "saturation 200 agents: nextcall ÷ ideal (next/s), every repeat",
        ("compare", "saturation-200", "ratios", "nextcall/ideal"),
        lambda v: v >= 0.7,
        "≥ 0.7",
        "saturation_agents",
        200,
        judged="min",
    ),
    Target(
        "realistic load: nextcall next p99 (ms)",
        ("compare", "realistic", "servers", "nextcall", "p99_ms"),
        lambda v: v < 10.0,
        "< 10",
        "realistic_agents",
        2000,
    ),
    Target(
        "realistic load: nextcall ÷ peer (next p99)",
        ("compare", "realistic", "ratios", "nextcall/peer"),
        lambda v: v <= 1 / 3,
        "≤ 0.33",
        "realistic_agents",
        2000,
    ),
    Target(
        "growth: next p50 at large ÷ small",
        ("growth", "p50_ratio"),
        lambda v: v <= 1.3,
        "≤ 1.3",
        "growth_large",
        1_000_000,
    ),
    Target(
        "sustained: nextcall last ÷ first window",
        ("sustained", "nextcall", "last_over_first"),
        lambda v: v >= 0.95,
        "≥ 0.95",
        "sustained_minutes",
        10.0,
        repeats="",  # one long run: its windows are the repeats
    ),
    Target(
        "connections: requests failed or slower than 2 s",
        ("connections", "failed_or_slow"),
        lambda v: v == 0,
        "0",
        "connections_minutes",
        10.0,
    ),
    Target(
        "import of the CSV (s)",
        ("import", "seconds"),
        lambda v: v < 60.0,
        "< 60",
        "import_rows",
        1_000_000,
        repeats="long_repeats",
    ),
    Target(
        "rebuild of Redis (s)",
        ("rebuild", "seconds"),
        lambda v: v < 15.0,
        "< 15",
        "import_rows",
        1_000_000,
        repeats="long_repeats",
    ),
    Target(
        "follow-up lateness p99 (ms)",
        ("lateness", "p99_ms"),
        lambda v: v < 1000.0,
        "< 1000",
        "lateness_followups",
        10_000,
        repeats="long_repeats",
    ),
    Target(
        "follow-up lateness: served before due",
        ("lateness", "early_count"),
        lambda v: v == 0,
        "0",
        "lateness_followups",
        10_000,
        repeats="long_repeats",
    ),
    Target(
        "contact rules, 1M register, consent: next/s with ÷ without",
        ("contact", "next_per_s_ratio"),
        lambda v: v >= 0.9,
        "≥ 0.9",
        "contact_register",
        1_000_000,
    ),
]


def verdicts(res: Fig) -> list[dict[str, Any]]:
    """Each target: the figure measured (the median, or the worst repeat where the target
    must hold in every one), MET / NOT MET, and whether the run had the issue's size for it
    (a smaller run, or fewer than 3 repeats, says little)."""
    params = res.get("parameters", {})
    out = []
    for t in TARGETS:
        value = _get(res, *t.path, t.judged)
        value = float(value) if value is not None else None
        given = params.get(t.param)
        full = t.size in given if isinstance(given, list) else given == t.size
        runs = params.get(t.repeats, params.get("repeats", 0)) if t.repeats else None
        full = full and not params.get("quick")
        verdict = "not measured" if value is None else "MET" if t.ok(value) else "NOT MET"
        out.append(
            {
                "name": t.name,
                "measured": value,
                "judged": t.judged,
                "spread": [_get(res, *t.path, "min"), _get(res, *t.path, "max")],
                "wanted": t.wanted,
                "verdict": verdict,
                "full_size": full,
                "runs": runs,
            }
        )
    return out


def _n(value: Any, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return f"{float(value):,.{digits}f}"


def _ms(spread: Fig | None, digits: int = 2) -> str:
    """ "median (min-max)" of a spread."""
    if not spread or spread.get("median") is None:
        return "n/a"
    med, lo, hi = spread["median"], spread["min"], spread["max"]
    if len(spread.get("runs", [])) < 2:
        return _n(med, digits)
    return f"{_n(med, digits)} ({_n(lo, digits)}-{_n(hi, digits)})"


def _targets(res: Fig) -> list[str]:
    lines = [
        "| target | judged on (min-max) | wanted | verdict |",
        "|---|---:|---:|---|",
    ]
    for t in res.get("targets", []):
        lo, hi = t["spread"]
        # Ratios with the digits their verdict was taken on, so none passes by rounding.
        digits = 4 if "÷" in t["name"] else 2
        spread = f" ({_n(lo, digits)}-{_n(hi, digits)})" if lo is not None and lo != hi else ""
        size = "" if t["full_size"] else " (smaller than the issue's size)"
        runs = t.get("runs")
        if runs is not None and runs < 3 and t["verdict"] != "not measured":
            size += f" (run {'once' if runs == 1 else f'{runs} times'}, not 3 times)"
        judged = "worst repeat " if t.get("judged") == "min" else ""
        lines.append(
            f"| {t['name']} | {judged}{_n(t['measured'], digits)}{spread} | {t['wanted']} "
            f"| **{t['verdict']}**{size} |"
        )
    return lines


def _compare(res: Fig) -> list[str]:
    out: list[str] = []
    for name, shape in res.get("compare", {}).items():
        paced = shape.get("interval_s")
        how = (
            f"{shape['agents']:,} agents, each starting next + outcome every {paced} s "
            f"(offered {shape['offered_cycles_per_s']:,} cycles/s, open loop)"
            if paced
            else f"{shape['agents']} agents in a closed loop, as fast as they can"
        )
        out += [
            "",
            f"### {name}",
            "",
            f"{how}.",
            "",
            "| server | next/s | cycles/s | next p50 ms | next p99 ms | next max ms "
            "| errors | client cores | client-bound | equal work |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
        ]
        for kind, s in shape["servers"].items():
            equal = {None: "-", True: "yes", False: "**no**"}[s.get("equal_work")]
            out.append(
                f"| {kind} | {_ms(s['next_per_s'], 0)} | {_ms(s['cycles_per_s'], 0)} "
                f"| {_ms(s['p50_ms'])} | {_ms(s['p99_ms'])} | {_ms(s['max_ms'], 1)} "
                f"| {s['errors']} | {_ms(s.get('client_cores'))} "
                f"| {'**yes**' if s['client_bound'] else 'no'} | {equal} |"
            )
        if shape["ratios"]:
            ratios = ", ".join(f"{k} = {_ms(v)}" for k, v in shape["ratios"].items())
            out += ["", f"Ratios of {shape['ratio_of']}, within each repeat: {ratios}."]
    return out


def _per_cycle(res: Fig) -> list[str]:
    """Where a cycle's CPU went and what it cost in round trips, at the busiest closed loop:
    the median of the repeats for each server."""
    closed = [(n, sh) for n, sh in res.get("compare", {}).items() if not sh.get("interval_s")]
    if not closed:
        return []
    name, shape = max(closed, key=lambda item: item[1]["agents"])
    out = [
        "",
        f"### Per cycle, {name}",
        "",
        "CPU in ms per cycle by process group (median of the repeats), how the server's CPU "
        "split over its processes (busiest first, median shares), and counts per cycle.",
        "",
        "| server | server processes | PostgreSQL | Redis | load client | server split "
        "| Redis scripts | Redis commands (in scripts too) | SQL statements (BEGIN, COMMIT too) |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for kind, s in shape["servers"].items():
        runs = s["runs"]

        def med(*path: str, runs: list[Fig] = runs) -> float:
            values = [v for v in (_get(r, *path) for r in runs) if v is not None]
            return statistics.median(values) if values else 0.0

        # Shares of each repeat's server CPU, leaving out a supervisor's crumbs.
        shares = [
            [
                x / sum(r["server_split"])
                for x in r["server_split"]
                if x / sum(r["server_split"]) > 0.01
            ]
            for r in runs
            if r.get("server_split") and sum(r["server_split"]) > 0
        ]
        width = min((len(x) for x in shares), default=0)
        split = "/".join(f"{statistics.median(x[i] for x in shares):.0%}" for i in range(width))
        out.append(
            f"| {kind} | {med('cpu_ms_per_cycle', 'server'):.2f} "
            f"| {med('cpu_ms_per_cycle', 'postgresql'):.2f} "
            f"| {med('cpu_ms_per_cycle', 'redis'):.2f} | {med('cpu_ms_per_cycle', 'client'):.2f} "
            f"| {split or 'n/a'} | {med('per_cycle', 'redis_scripts'):.2f} "
            f"| {med('per_cycle', 'redis_commands'):.1f} "
            f"| {med('per_cycle', 'sql_statements'):.2f} |"
        )
    return out


def _capacity(c: Fig) -> list[str]:
    out = [
        "",
        "## Capacity",
        "",
        f"Each server alone, {c['agents']:,} paced agents (open loop), the rate stepped up "
        f"until `next` p99 (from each cycle's scheduled start) reached {c['p99_bound_ms']:.0f} "
        "ms or the server fell behind the offered rate.",
        "",
        "| server | highest rate held (cycles/s) | agents per node at one cycle every "
        f"{c['realistic_interval_s']:.0f} s | steps (rate: p99 ms) |",
        "|---|---:|---:|---|",
    ]
    for kind in ("nextcall", "peer"):
        k = c.get(kind)
        if not k:
            continue
        steps = ", ".join(f"{x['rate']:g}: {_n(x['p99_ms'], 1)}" for x in k["steps"])
        out.append(
            f"| {kind} | {_n(k['highest_rate'], 0)} | {_n(k['agents_per_node'])} | {steps} |"
        )
    return out


def _growth(g: Fig) -> list[str]:
    small, large = str(g["small"]), str(g["large"])
    return [
        "",
        "## Growth",
        "",
        f"nextcall alone, {g['agents']} agent(s) in a closed loop (next + no answer); the two "
        "assignments measured in alternating slices against one server.",
        "",
        "| customers | inserted in s | placed in s | next/s | next p50 ms | next p99 ms |",
        "|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {int(n):,} | {_n(g[n]['insert_s'], 1)} | {_n(g[n]['place_s'], 1)} "
            f"| {_ms(g[n]['next_per_s'], 0)} | {_ms(g[n]['p50_ms'])} | {_ms(g[n]['p99_ms'])} |"
            for n in (small, large)
        ),
        "",
        f"Large ÷ small: p50 {_ms(g['p50_ratio'])}, p99 {_ms(g['p99_ratio'])}.",
    ]


def _contact(c: Fig) -> list[str]:
    rows = []
    for name in ("plain", "rules"):
        f = c[name]
        loads = [r["load_average"] for r in f["runs"]]
        rows.append(
            f"| {name} | {_ms(f['next_per_s'], 0)} | {_ms(f['p50_ms'])} | {_ms(f['p99_ms'])} "
            f"| {', '.join(f'{a}-{b}' for a, b in loads)} |"
        )
    return [
        "",
        "## Contact rules, registers and consent",
        "",
        f"nextcall alone, {c['agents']} agents in a closed loop (next + no answer), "
        f"{c['customers']:,} customers in each of two assignments measured in alternating "
        "slices against one server: `plain` without any contact rule; `rules` with calling "
        "rules (open every day, evaluated at every claim), a do-not-call register of "
        f"{c['register_numbers']:,} numbers, the existing-customer exemption and consent "
        "required (decision 033).",
        "",
        "| assignment | next/s | next p50 ms | next p99 ms | load average before-after slices |",
        "|---|---:|---:|---:|---|",
        *rows,
        "",
        f"With ÷ without, within each repeat: next/s {_ms(c['next_per_s_ratio'])}, "
        f"p50 {_ms(c['p50_ratio'])}.",
    ]


def _connections(c: Fig) -> list[str]:
    return [
        "",
        "## Connections",
        "",
        f"{c['agents']} agents, each on one keep-alive connection, starting next + outcome every "
        f"{c['interval_s']:.0f} s for {c['minutes']:g} minutes (an open loop far below "
        "saturation): what a floor notices over a shift.",
        "",
        f"- requests {c['requests']:,}; failed (no answer, a dropped connection or an error "
        f"status) {c['failed']}; slower than {c['slow_ms']:.0f} ms {c['slow']}",
        f"- next p50 {_n(c['next_ms'].get('p50'))} ms, p99 {_n(c['next_ms'].get('p99'))} ms; "
        f"slowest answer {_n(c['max_ms'])} ms",
    ]


def _sustained(s: Fig) -> list[str]:
    out = [
        "",
        "## Sustained",
        "",
        f"Each server alone for {s['minutes']} minutes, {s['agents']} agents in a closed loop; "
        f"next requests per second in each {s['window_s']:.0f} s window.",
        "",
        "| server | last ÷ first (the target) | last 3 ÷ first 3 | per window |",
        "|---|---:|---:|---|",
    ]
    for kind in ("nextcall", "peer"):
        if kind in s:
            runs = s[kind]["runs"]
            series = "; ".join(", ".join(f"{x:.0f}" for x in run["per_window"]) for run in runs)
            ends = [_ends(run["per_window"]) for run in runs]
            smoothed = (
                _n(statistics.median(e for e in ends if e is not None)) if any(ends) else "n/a"
            )
            out.append(f"| {kind} | {_ms(s[kind]['last_over_first'])} | {smoothed} | {series} |")
    out += [
        "",
        "One 30 s window moves by several percent on this shared machine, so the mean of the "
        "last three windows over the mean of the first three is shown too: a trend moves it, "
        "one noisy window much less.",
    ]
    return out


def _ends(windows: list[float], n: int = 3) -> float | None:
    if len(windows) < 2 * n or not sum(windows[:n]):
        return None
    return sum(windows[-n:]) / sum(windows[:n])


def _bulk(res: Fig) -> list[str]:
    out = ["", "## Import and rebuild", ""]
    imp, reb = res.get("import"), res.get("rebuild")
    if imp:
        out.append(
            f"- import of {imp['rows']:,} customers from a CSV through "
            "`POST /v1/assignments/{id}/imports` and its worker job, until every row is in "
            f"PostgreSQL and placed in Redis: {_ms(imp['seconds'], 1)} s"
            + ("" if imp["complete"] else " (**not every row arrived**: see the JSON)")
        )
    if reb:
        out.append(
            f"- rebuild of Redis from PostgreSQL for {reb['memberships']:,} memberships "
            f"(`rebuild_queue`, the job of `nextcall rebuild`): {_ms(reb['seconds'], 1)} s"
        )
    return out


def _lateness(lt: Fig) -> list[str]:
    return [
        "",
        "## Follow-up lateness",
        "",
        f"{lt['followups']:,} shared follow-ups falling due evenly within {lt['within_s']:.0f} s, "
        f"beside free customers, while {lt['agents']} agents work "
        + (
            f"at {lt['rate_cycles_per_s']:,} cycles/s between them (half of nextcall's "
            "saturation rate, open loop)"
            if lt.get("rate_cycles_per_s")
            else "in a closed loop"
        )
        + "; lateness = when `next` handed the customer out minus its due time.",
        "",
        f"- p50 {_ms(lt['p50_ms'], 0)} ms, p99 {_ms(lt['p99_ms'], 0)} ms, "
        f"max {_ms(lt['max_ms'], 0)} ms; served before due: {lt.get('early', 0):,}",
        f"- never served within {lt['drain_s']:.0f} s after the last fell due: "
        f"{lt['unserved']:,} (all repeats)",
    ]


def render(res: Fig, *, results_path: Path) -> str:
    p, m, v = res["parameters"], res["machine"], res.get("versions", {})
    try:
        shown = results_path.resolve().relative_to(ROOT)
    except ValueError:
        shown = results_path
    out = [
        "# Benchmarks",
        "",
        f"Written by `nextcall bench` from one run ({res['date']}, "
        f"{res.get('duration_s', 0) / 60:.0f} minutes); every figure comes from that run. "
        f"Raw figures: `{shown}`. How it works and how to run it: `bench/README.md`.",
        "",
        "## Targets",
        "",
        *_targets(res),
        "",
        "Each figure is the median of the repeats, with the spread (min-max) of the runs. "
        "Ratios are taken within one repeat (the same shape, the same round) and then their "
        "median: on a shared, noisy machine only the ratios travel, not the absolute figures.",
        "",
        "## Machine and parameters",
        "",
        f"- {m.get('cpu_model', '?')}, {m.get('cpus')} cores, {m.get('memory_gib', '?')} GiB; "
        f"{m.get('platform', '?')}",
        f"- Python {v.get('python', m.get('python'))}, PostgreSQL {v.get('postgresql', '?')}, "
        f"Redis {v.get('redis', '?')}; load average before {res['loadavg_before'][0]:.2f}, "
        f"after {res.get('loadavg_after', [0])[0]:.2f}",
        f"- {p['repeats']} repeat(s); {p['seconds']:.0f} s measured per server and slice, after "
        f"{p['warmup']:.0f} s of warm-up ({p['slice_warmup']} s before later slices); "
        f"{p['workers']} uvicorn workers per server; {p['client_procs']} load client "
        f"processes ({p['client']} HTTP/1.1 client); {p['customers']:,} customers in the "
        "compared assignment",
    ]
    if p.get("server_env"):
        settings = ", ".join(f"`{k}={x}`" for k, x in p["server_env"].items())
        out.append(f"- Server settings: {settings}")
    cal = res.get("calibration")
    if cal:
        out.append(
            f"- Machine speed at the start: 1M Python additions {cal['python_1m_adds_ms']:.0f} ms "
            f"of CPU; Redis PING {cal['redis_ping_wall_us']:.0f} µs and PostgreSQL empty query "
            f"{cal['pg_empty_query_wall_us']:.0f} µs per loopback round trip"
        )
    if res.get("compare"):
        out += [
            "",
            "## Side by side",
            "",
            "floor: a do-nothing POST; ideal: only the Redis claim script (then the release "
            "script); nextcall: the real `next` (auth, checks, card, lease) then the attempt "
            "*no answer* with the lease id and version (attempts + 1, an event row); peer: "
            "`SELECT … FOR UPDATE SKIP LOCKED LIMIT 1` + `UPDATE` in PostgreSQL, then the "
            "attempt's `UPDATE` (attempts + 1) and an event `INSERT`. *Equal work* says that "
            "every cycle of every slice added exactly one attempt and one event row, read back "
            "from the database after the slice. All are FastAPI apps on "
            f"{p.get('http', 'uvicorn')} with the same settings; nextcall serves `next` and "
            "attempts in a plain ASGI layer in front of FastAPI's routing (decision 017). "
            "Closed loops are driven by wrk (one thread and "
            "connection per agent, `bench/wrk_cycle.lua`, raw per-request times; decision "
            "038), open loops by the Python client, with each `next` timed from its cycle's "
            "scheduled start. *Client cores*: the load client's CPU over the window, in cores. "
            "No scenario drains its customers.",
            *_compare(res),
            *_per_cycle(res),
        ]
    if res.get("capacity"):
        out += _capacity(res["capacity"])
    if res.get("growth"):
        out += _growth(res["growth"])
    if res.get("sustained"):
        out += _sustained(res["sustained"])
    if res.get("connections"):
        out += _connections(res["connections"])
    if res.get("import") or res.get("rebuild"):
        out += _bulk(res)
    if res.get("lateness"):
        out += _lateness(res["lateness"])
    out += [
        "",
        "## What was tried",
        "",
        "Changes tried on the hot path and the servers, and those that did not help, are in "
        "the decisions that measured them, each in one run: 014 and 017 (the hot path in "
        "front of FastAPI, asyncpg), 013 (import and rebuild), 038 (the load client, equal "
        "work, granian against uvicorn, where a cycle's CPU goes). The per-cycle table above "
        "is the measured bound of the saturation targets.",
    ]
    if res.get("contact"):
        out += _contact(res["contact"])
    return "\n".join(out) + "\n"
