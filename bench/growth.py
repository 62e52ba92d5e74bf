"""growth: the cost of nextcall's `next` in a small and a large assignment.

Two assignments (10,000 and 1,000,000 customers by default) inserted by PostgreSQL and placed
in Redis as the project places them, then measured in alternating slices against one server:
a few agents in a closed loop (one by default: no queueing, so the latency is the cost of a
`next`). The ratio large/small of p50 and p99 is taken within each repeat.
"""

import time
from typing import Any

from bench import seed
from bench.context import Ctx, Fleet
from bench.figures import pct, ratio, rotated, spread


async def growth(ctx: Ctx) -> dict[str, Any]:
    a = ctx.args
    sizes: list[int] = [a.growth_small, a.growth_large]
    ids: dict[int, int] = {}
    setup: dict[str, Any] = {}
    for n in sizes:
        assignment = await seed.create_assignment(ctx.sessionmaker, ctx.world, f"Growth {n}")
        started = time.perf_counter()
        await seed.insert_customers(ctx.engine, ctx.world.tenant_id, assignment, n)
        insert_s = time.perf_counter() - started
        place_s = await seed.place(ctx.sessionmaker, ctx.redis, assignment)
        ctx.log(f"growth: {n:,} customers inserted in {insert_s:.1f} s, placed in {place_s:.1f} s")
        ids[n] = assignment
        setup[str(n)] = {"insert_s": round(insert_s, 2), "place_s": round(place_s, 2)}
    agents = ctx.world.agents[: a.growth_agents]
    runs: dict[int, list[dict[str, Any]]] = {n: [] for n in sizes}
    async with Fleet(ctx, ["nextcall"]):
        for repeat in range(a.repeats):
            for n in rotated(sizes, repeat):
                fig, _ = await ctx.slice(
                    "nextcall",
                    ids[n],
                    agents,
                    seconds=a.growth_seconds,
                    warmup=a.warmup if repeat == 0 else a.slice_warmup,
                )
                runs[n].append(fig)
                lat = fig["next_ms"]
                ctx.log(
                    f"growth #{repeat + 1} {n:,}: p50 {lat.get('p50', 0):.2f} "
                    f"p99 {lat.get('p99', 0):.2f} ms"
                )
    small, large = runs[a.growth_small], runs[a.growth_large]
    out: dict[str, Any] = {"small": a.growth_small, "large": a.growth_large, "agents": len(agents)}
    for size, figs in ((a.growth_small, small), (a.growth_large, large)):
        out[str(size)] = {
            **setup[str(size)],
            "p50_ms": spread([pct(f, "next_ms", "p50") for f in figs]),
            "p99_ms": spread([pct(f, "next_ms", "p99") for f in figs]),
            "next_per_s": spread([f["next_per_s"] for f in figs]),
            "runs": figs,
        }
    for which in ("p50", "p99"):
        out[f"{which}_ratio"] = spread(
            [
                ratio(pct(big, "next_ms", which), pct(little, "next_ms", which))
                for big, little in zip(large, small, strict=True)
            ]
        )
    return out
