"""capacity: the highest open-loop rate at which `next` p99 stays under a bound, per server.

Issue 18: after the realistic load (2,000 agents every 20 s), how far can the rate go before
`next` p99 (timed from each cycle's scheduled start) passes 50 ms, for nextcall and the peer?
Each server alone, the same agents, the rate stepped up (`--capacity-rates`, cycles/s) until
a step misses: p99 over the bound, or fewer than 95% of the offered cycles done. The figure
is the highest rate that held, and the agents one node serves at the realistic interval.
"""

from typing import Any

from bench.compare import assignment_for
from bench.context import Ctx, Fleet
from bench.figures import pct
from bench.load import Kind

KINDS: tuple[Kind, ...] = ("nextcall", "peer")
P99_BOUND_MS = 50.0
# A step whose server did less than this share of the offered cycles is saturated.
KEPT_UP = 0.95


async def capacity(ctx: Ctx, main_id: int) -> dict[str, Any]:
    a = ctx.args
    agents = ctx.world.agents[: a.capacity_agents]
    out: dict[str, Any] = {
        "agents": len(agents),
        "p99_bound_ms": P99_BOUND_MS,
        "realistic_interval_s": a.realistic_interval,
    }
    kinds = [k for k in KINDS if k in a.servers]
    async with Fleet(ctx, kinds):
        for kind in kinds:
            steps: list[dict[str, Any]] = []
            held: float | None = None
            for step, rate in enumerate(a.capacity_rates):
                interval = len(agents) / rate
                # Two intervals on the fresh server, as compare.py's paced shapes.
                fig, _ = await ctx.slice(
                    kind,
                    assignment_for(kind, main_id),
                    agents,
                    seconds=a.seconds,
                    warmup=max(a.slice_warmup, interval * (1 if step else 2)),
                    interval=interval,
                )
                p99 = pct(fig, "next_ms", "p99")
                ok = (
                    p99 is not None
                    and p99 < P99_BOUND_MS
                    and fig["cycles_per_s"] >= KEPT_UP * rate
                    and fig["errors"] == 0
                )
                ctx.log(f"capacity {kind} at {rate:g} cycles/s: p99 {p99} ms, held: {ok}")
                steps.append(
                    {
                        "rate": rate,
                        "p99_ms": p99,
                        "cycles_per_s": fig["cycles_per_s"],
                        "held": ok,
                        "client_bound": fig["client_bound"],
                        "figure": fig,
                    }
                )
                if not ok:
                    break
                held = rate
            out[kind] = {
                "highest_rate": held,
                # Agents one node serves, each starting a cycle every realistic interval.
                "agents_per_node": round(held * a.realistic_interval) if held else None,
                "steps": steps,
            }
    return out
