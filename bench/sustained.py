"""sustained: throughput per window over a long closed loop, for nextcall and the peer.

A queue kept in PostgreSQL leaves a dead row behind every claim and outcome and is known to
slow down as they pile up; Redis keeps no history. Each server is loaded alone for the whole
span (not in slices: the slowdown is cumulative), and the `next` requests started in each
window are counted. The figure is last window / first window.
"""

from typing import Any

from bench.compare import assignment_for
from bench.context import Ctx, Fleet
from bench.figures import ratio, spread
from bench.load import Kind

KINDS: tuple[Kind, ...] = ("nextcall", "peer")


def windows(starts: list[float], span_s: float, window_s: float) -> list[float]:
    """Requests per second in each whole window of the span."""
    count = max(1, int(span_s // window_s))
    buckets = [0] * count
    for t in starts:
        i = int(t // window_s)
        if 0 <= i < count:
            buckets[i] += 1
    return [round(b / window_s, 1) for b in buckets]


async def sustained(ctx: Ctx, main_id: int) -> dict[str, Any]:
    a = ctx.args
    span = a.sustained_minutes * 60
    window_s = min(a.sustained_window, span)
    agents = ctx.world.agents[: a.sustained_agents]
    out: dict[str, Any] = {
        "minutes": a.sustained_minutes,
        "window_s": window_s,
        "agents": len(agents),
    }
    kinds = [k for k in KINDS if k in a.sustained_servers]
    async with Fleet(ctx, kinds):
        for kind in kinds:
            runs: list[dict[str, Any]] = []
            for repeat in range(a.sustained_repeats):
                fig, result = await ctx.slice(
                    kind, assignment_for(kind, main_id), agents, seconds=span, warmup=a.warmup
                )
                series = windows(result.starts, span, window_s)
                last_over_first = ratio(series[-1], series[0]) if series else None
                ctx.log(f"sustained #{repeat + 1} {kind}: per window {series}")
                runs.append(
                    {
                        "per_window": series,
                        "last_over_first": last_over_first,
                        "errors": fig["errors"],
                        "next_ms": fig["next_ms"],
                        "client_bound": fig["client_bound"],
                    }
                )
            out[kind] = {
                "last_over_first": spread([r["last_over_first"] for r in runs]),
                "runs": runs,
            }
    return out
