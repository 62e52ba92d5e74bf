"""connections: many agents on keep-alive connections for a long time, none dropped.

Each agent keeps one HTTP/1.1 connection and starts next + outcome every `interval` seconds
(an open loop, far below saturation), for minutes. What counts is what a contact centre's
floor feels over a shift: requests that got no answer (a connection closed under a request,
a read error) and answers slower than a threshold, not throughput. Decision 031 names the
cause found for the read errors seen before (the server's keep-alive timeout was as short as
the clients' pool expiry).
"""

from typing import Any

from bench.compare import assignment_for
from bench.context import Ctx, Fleet
from bench.figures import spread

# An answer slower than this counts as slow: an agent notices.
SLOW_MS = 2000.0


async def connections(ctx: Ctx, main_id: int) -> dict[str, Any]:
    a = ctx.args
    agents = ctx.world.agents[: a.connections_agents]
    span = a.connections_minutes * 60
    async with Fleet(ctx, ["nextcall"]):
        fig, result = await ctx.slice(
            "nextcall",
            assignment_for("nextcall", main_id),
            agents,
            seconds=span,
            warmup=a.connections_interval,
            interval=a.connections_interval,
        )
    samples = [s * 1000 for s in (*result.samples, *result.finish_samples)]
    slow = sum(1 for ms in samples if ms > SLOW_MS)
    out = {
        "agents": len(agents),
        "interval_s": a.connections_interval,
        "minutes": a.connections_minutes,
        "requests": len(samples),
        "failed": fig["errors"],
        "statuses": fig["statuses"],
        "slow": slow,
        "slow_ms": SLOW_MS,
        "max_ms": round(max(samples, default=0.0), 2),
        "next_ms": fig["next_ms"],
        "finish_ms": fig["finish_ms"],
        # The target: requests failed or slower than SLOW_MS (0 wanted); one run.
        "failed_or_slow": spread([fig["errors"] + slow]),
    }
    ctx.log(
        f"connections: {out['requests']:,} requests from {out['agents']} agents over "
        f"{a.connections_minutes} min, failed {out['failed']}, slower than {SLOW_MS:.0f} ms "
        f"{slow}, max {out['max_ms']:.1f} ms"
    )
    return out
