"""The four servers side by side, on the same data, in the same run: floor, ideal, nextcall,
peer, at saturation (closed loops of 50 and 200 agents) and at the realistic load (1,000
agents, each starting next + outcome every 2 s).

Each repeat takes one slice of every server for every shape, in an order that rotates from
repeat to repeat; ratios are computed within a repeat (same shape, same round) and the
median of the ratios is reported with its spread.
"""

import os
from dataclasses import dataclass
from typing import Any

from bench.context import Ctx, Fleet
from bench.figures import pct, ratio, rotated, spread
from bench.load import Kind
from bench.seed import REDIS_ONLY_OFFSET

KINDS: list[Kind] = ["floor", "ideal", "nextcall", "peer", "base"]
PEERS: tuple[Kind, ...] = ("peer", "ideal", "floor", "base")


@dataclass(frozen=True, slots=True)
class Shape:
    name: str
    agents: int
    interval: float | None  # None: a closed loop (saturation)

    @property
    def saturating(self) -> bool:
        return self.interval is None


def shapes(ctx: Ctx) -> list[Shape]:
    a = ctx.args
    out = [Shape(f"saturation-{n}", n, None) for n in a.saturation_agents]
    if a.realistic_agents:
        out.append(Shape("realistic", a.realistic_agents, a.realistic_interval))
    return out


def assignment_for(kind: Kind, main_id: int) -> int:
    return main_id + REDIS_ONLY_OFFSET if kind == "ideal" else main_id


async def compare(ctx: Ctx, main_id: int) -> dict[str, Any]:
    a = ctx.args
    kinds = [k for k in KINDS if k in a.servers]
    runs: dict[str, dict[Kind, list[dict[str, Any]]]] = {}
    async with Fleet(ctx, kinds):
        warmed: set[tuple[str, Kind]] = set()
        for repeat in range(a.repeats):
            for shape in shapes(ctx):
                agents = ctx.world.agents[: shape.agents]
                for kind in rotated(kinds, repeat):
                    first = (shape.name, kind) not in warmed
                    warmed.add((shape.name, kind))
                    # A paced shape needs one interval before every agent has started, and
                    # on a fresh server a second one: an agent's first cycle after start-up
                    # costs the API several times a later one (decision 038), a backlog the
                    # window should not measure.
                    paced = (shape.interval or 0.0) * (2 if first else 1)
                    warmup = max(a.warmup if first else a.slice_warmup, paced)
                    fig, _ = await ctx.slice(
                        kind,
                        assignment_for(kind, main_id),
                        agents,
                        seconds=a.seconds,
                        warmup=warmup,
                        interval=shape.interval,
                    )
                    runs.setdefault(shape.name, {}).setdefault(kind, []).append(fig)
                    ctx.log(f"{shape.name} #{repeat + 1} {kind}: {line(fig)}")
    return {s.name: summarize(s, runs.get(s.name, {})) for s in shapes(ctx)}


def line(fig: dict[str, Any]) -> str:
    lat, work = fig["next_ms"], fig.get("work")
    wrote = (
        ""
        if work is None
        else f", wrote {work['attempts']}/{work['events']} for {work['cycles']} cycles"
    )
    return (
        f"{fig['next_per_s']:.0f} next/s, {fig['cycles_per_s']:.0f} cycles/s, "
        f"p50 {lat.get('p50', 0):.2f} p99 {lat.get('p99', 0):.2f} max {lat.get('max', 0):.1f} ms, "
        f"errors {fig['errors']}, busiest client {fig['client_busy']:.0%}{wrote}, "
        f"server CPU {fig['cpu_ms_per_cycle'].get('server', 0):.2f} ms/cycle "
        f"(per process s: {fig.get('server_split')}), per cycle {fig.get('per_cycle')}, "
        f"load {os.getloadavg()[0]:.1f}"
    )


def summarize(shape: Shape, runs: dict[Kind, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per server: each figure's median and spread over the repeats; then the ratios.

    At saturation a ratio compares throughput (higher is better for nextcall); at the
    realistic load it compares the p99 of `next` (lower is better).
    """
    per_kind: dict[str, Any] = {}
    for kind, figs in runs.items():
        per_kind[kind] = {
            "next_per_s": spread([f["next_per_s"] for f in figs]),
            "cycles_per_s": spread([f["cycles_per_s"] for f in figs]),
            "p50_ms": spread([pct(f, "next_ms", "p50") for f in figs]),
            "p99_ms": spread([pct(f, "next_ms", "p99") for f in figs]),
            "max_ms": spread([pct(f, "next_ms", "max") for f in figs]),
            "errors": sum(f["errors"] for f in figs),
            "client_bound": any(f["client_bound"] for f in figs),
            # Every slice's cycles wrote one attempt and one event each (bench/work.py);
            # None for the servers that write nothing (floor, ideal).
            "equal_work": None
            if any(f.get("work") is None for f in figs)
            else all(f["work"]["equal"] for f in figs),
            "client_cores": spread([f.get("client_cores", 0.0) for f in figs]),
            "runs": figs,
        }
    ratios: dict[str, Any] = {}
    ours = runs.get("nextcall", [])
    for peer in PEERS:
        theirs = runs.get(peer, [])
        if not ours or not theirs:
            continue
        pairs = list(zip(ours, theirs, strict=True))
        if shape.saturating:
            values = [ratio(o["next_per_s"], t["next_per_s"]) for o, t in pairs]
        else:
            values = [ratio(pct(o, "next_ms", "p99"), pct(t, "next_ms", "p99")) for o, t in pairs]
        ratios[f"nextcall/{peer}"] = spread(values)
    if runs.get("base") and runs.get("peer") and shape.saturating:
        # The same ratio for the earlier commit, from the same repeats: before and after.
        pairs = list(zip(runs["base"], runs["peer"], strict=True))
        ratios["base/peer"] = spread([ratio(b["next_per_s"], p["next_per_s"]) for b, p in pairs])
    return {
        "agents": shape.agents,
        "interval_s": shape.interval,
        "offered_cycles_per_s": round(shape.agents / shape.interval, 1) if shape.interval else None,
        "ratio_of": "next per s" if shape.saturating else "next p99",
        "servers": per_kind,
        "ratios": ratios,
    }
