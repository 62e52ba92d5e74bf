"""docs/benchmarks.md, rendered from one run's results, and the verdict on each target."""

import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.servers import ROOT

Fig = dict[str, Any]


def _get(res: Fig, *path: str) -> Any:
    node: Any = res
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _median(res: Fig, *path: str) -> float | None:
    value = _get(res, *path, "median")
    return float(value) if value is not None else None


# name, where the median is, the test, how it is wanted, the parameter and the size it assumes
TARGETS: list[tuple[str, tuple[str, ...], Callable[[float], bool], str, str, Any]] = [
    (
        "saturation 200 agents: nextcall ÷ peer (next/s)",
        ("compare", "saturation-200", "ratios", "nextcall/peer"),
        lambda v: v >= 2.0,
        "≥ 2",
        "saturation_agents",
        200,
    ),
    (
        "saturation 200 agents: nextcall ÷ ideal (next/s)",
        ("compare", "saturation-200", "ratios", "nextcall/ideal"),
        lambda v: v >= 0.5,
        "≥ 0.5",
        "saturation_agents",
        200,
    ),
    (
        "realistic load: nextcall next p99 (ms)",
        ("compare", "realistic", "servers", "nextcall", "p99_ms"),
        lambda v: v < 10.0,
        "< 10",
        "realistic_agents",
        1000,
    ),
    (
        "realistic load: nextcall ÷ peer (next p99)",
        ("compare", "realistic", "ratios", "nextcall/peer"),
        lambda v: v <= 1 / 3,
        "≤ 0.33",
        "realistic_agents",
        1000,
    ),
    (
        "growth: next p50 at large ÷ small",
        ("growth", "p50_ratio"),
        lambda v: v <= 1.3,
        "≤ 1.3",
        "growth_large",
        1_000_000,
    ),
    (
        "sustained: nextcall last ÷ first window",
        ("sustained", "nextcall", "last_over_first"),
        lambda v: v >= 0.95,
        "≥ 0.95",
        "sustained_minutes",
        10.0,
    ),
    (
        "connections: requests failed or slower than 2 s",
        ("connections", "failed_or_slow"),
        lambda v: v == 0,
        "0",
        "connections_minutes",
        10.0,
    ),
    (
        "import of the CSV (s)",
        ("import", "seconds"),
        lambda v: v < 60.0,
        "< 60",
        "import_rows",
        1_000_000,
    ),
    (
        "rebuild of Redis (s)",
        ("rebuild", "seconds"),
        lambda v: v < 30.0,
        "< 30",
        "import_rows",
        1_000_000,
    ),
    (
        "follow-up lateness p99 (ms)",
        ("lateness", "p99_ms"),
        lambda v: v < 1000.0,
        "< 1000",
        "lateness_followups",
        100_000,
    ),
    (
        "contact rules, 1M register, consent: next/s with ÷ without",
        ("contact", "next_per_s_ratio"),
        lambda v: v >= 0.9,
        "≥ 0.9",
        "contact_register",
        1_000_000,
    ),
]


def verdicts(res: Fig) -> list[dict[str, Any]]:
    """Each target: the median measured, MET / NOT MET, and whether the run had the issue's
    size for it (a smaller run, or fewer than 3 repeats, says little)."""
    params = res.get("parameters", {})
    out = []
    for name, path, ok, wanted, param, size in TARGETS:
        value = _median(res, *path)
        given = params.get(param)
        full = size in given if isinstance(given, list) else given == size
        full = full and not params.get("quick") and params.get("repeats", 0) >= 3
        verdict = "not measured" if value is None else "MET" if ok(value) else "NOT MET"
        out.append(
            {
                "name": name,
                "measured": value,
                "spread": [_get(res, *path, "min"), _get(res, *path, "max")],
                "wanted": wanted,
                "verdict": verdict,
                "full_size": full,
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
        "| target | measured (median, min-max) | wanted | verdict |",
        "|---|---:|---:|---|",
    ]
    for t in res.get("targets", []):
        lo, hi = t["spread"]
        # Ratios with the digits their verdict was taken on, so none passes by rounding.
        digits = 4 if "÷" in t["name"] else 2
        spread = f" ({_n(lo, digits)}-{_n(hi, digits)})" if lo is not None and lo != hi else ""
        size = "" if t["full_size"] else " (smaller than the issue's size)"
        lines.append(
            f"| {t['name']} | {_n(t['measured'], digits)}{spread} | {t['wanted']} "
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
            "| errors | client-bound |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for kind, s in shape["servers"].items():
            out.append(
                f"| {kind} | {_ms(s['next_per_s'], 0)} | {_ms(s['cycles_per_s'], 0)} "
                f"| {_ms(s['p50_ms'])} | {_ms(s['p99_ms'])} | {_ms(s['max_ms'], 1)} "
                f"| {s['errors']} | {'**yes**' if s['client_bound'] else 'no'} |"
            )
        if shape["ratios"]:
            ratios = ", ".join(f"{k} = {_ms(v)}" for k, v in shape["ratios"].items())
            out += ["", f"Ratios of {shape['ratio_of']}, within each repeat: {ratios}."]
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
        f"beside free customers, while {lt['agents']} agents work in a closed loop; lateness "
        "= when `next` handed the customer out minus its due time.",
        "",
        f"- p50 {_ms(lt['p50_ms'], 0)} ms, p99 {_ms(lt['p99_ms'], 0)} ms, "
        f"max {_ms(lt['max_ms'], 0)} ms",
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
            "script); nextcall: the real `next` (auth, checks, card, lease) then the outcome "
            "*no answer* with the lease id and version; peer: `SELECT … FOR UPDATE SKIP LOCKED "
            "LIMIT 1` + `UPDATE` in PostgreSQL, then an outcome-like `UPDATE` and an event "
            "`INSERT`. All are FastAPI apps on uvicorn with the same settings; floor, ideal "
            "and peer answer through FastAPI routes, while nextcall serves `next` and "
            "outcomes in a plain ASGI layer in front of FastAPI's routing (decision 017: "
            "on this machine a do-nothing FastAPI POST costs about three times a do-nothing "
            "ASGI answer). No scenario drains its customers (the outcome leaves them free). "
            "A figure marked "
            "client-bound had a load client process near a full core: it measures the client "
            "as much as the server.",
            *_compare(res),
        ]
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
    if res.get("contact"):
        out += _contact(res["contact"])
    return "\n".join(out) + "\n"
