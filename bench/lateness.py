"""follow-up lateness: shared follow-ups falling due while agents work.

An assignment of free customers plus N shared follow-ups (state `interested`) due evenly over
a span (10 minutes in the full run), placed in Redis as the project places them. nextcall
agents work it (at half of nextcall's saturation rate, an open loop, or in a closed loop)
from shortly before the first one falls due; each follow-up's lateness is the moment its
`next` answer reached the agent minus its due time (both wall clock on this machine). Agents
keep working until every follow-up is served or the drain time is over; those never served
are counted apart.
"""

import time
from datetime import UTC, datetime
from typing import Any

from bench import seed
from bench.context import Ctx, Fleet
from bench.figures import spread
from bench.load import summarize

# Seconds of set-up per customer inserted and placed (measured ~16k/s), plus a fixed margin:
# the follow-ups must not fall due before the agents are at work.
SETUP_S_PER_CUSTOMER = 1 / 8000
SETUP_MARGIN_S = 10.0
# The agents start this long before the first follow-up falls due.
LEAD_S = 3.0


async def once(ctx: Ctx, repeat: int, rate: float | None) -> dict[str, Any]:
    a = ctx.args
    n, within = a.lateness_followups, a.lateness_within
    assignment = await seed.create_assignment(ctx.sessionmaker, ctx.world, f"Lateness {repeat}")
    lead = SETUP_MARGIN_S + (n + a.lateness_free) * SETUP_S_PER_CUSTOMER
    due_from = time.time() + lead
    await seed.insert_customers(ctx.engine, ctx.world.tenant_id, assignment, a.lateness_free)
    await seed.insert_customers(
        ctx.engine,
        ctx.world.tenant_id,
        assignment,
        n,
        due_from=datetime.fromtimestamp(due_from, UTC),
        due_within_s=within,
        tag="f",
    )
    await seed.place(ctx.sessionmaker, ctx.redis, assignment)
    margin = due_from - time.time()
    if margin < LEAD_S:
        ctx.log(f"lateness: set-up ended {LEAD_S - margin:.1f} s late; figures include it")
    warmup = max(0.0, margin - LEAD_S)
    fig, result = await ctx.slice(
        "nextcall",
        assignment,
        ctx.world.agents[: a.lateness_agents],
        seconds=LEAD_S + within + a.lateness_drain,
        warmup=warmup,
        interval=a.lateness_agents / rate if rate else None,
        python=True,  # lateness is read from the answers' follow-up times
    )
    served = len(result.lateness)
    late = summarize(result.lateness)
    ctx.log(
        f"lateness #{repeat + 1}: {served:,} of {n:,} served; p50 {late.get('p50', 0):.0f} "
        f"p99 {late.get('p99', 0):.0f} max {late.get('max', 0):.0f} ms late"
    )
    return {
        "served": served,
        # Handed out before it was due (clock resolution aside): must be none.
        "early": sum(1 for x in result.lateness if x < 0),
        "unserved": n - served,
        "lateness_ms": late,
        "setup_margin_s": round(margin, 2),
        "next_per_s": fig["next_per_s"],
        "errors": fig["errors"],
        "client_bound": fig["client_bound"],
    }


async def lateness(ctx: Ctx, rate: float | None = None) -> dict[str, Any]:
    """With `rate`, the agents start that many cycles per second between them (open loop);
    without, they work in a closed loop."""
    a = ctx.args
    runs = []
    async with Fleet(ctx, ["nextcall"]):
        for repeat in range(a.long_repeats):
            runs.append(await once(ctx, repeat, rate))
    return {
        "followups": a.lateness_followups,
        "within_s": a.lateness_within,
        "agents": a.lateness_agents,
        "rate_cycles_per_s": round(rate, 1) if rate else None,
        "drain_s": a.lateness_drain,
        **{
            f"{which}_ms": spread([r["lateness_ms"].get(which) for r in runs])
            for which in ("p50", "p99", "max")
        },
        "unserved": sum(r["unserved"] for r in runs),
        "early": sum(r["early"] for r in runs),
        # The same as a figure the targets read (median = max = the count over all repeats).
        "early_count": spread([float(sum(r["early"] for r in runs))]),
        "runs": runs,
    }
