"""contact: `next` with calling rules, a 1M-number do-not-call register and consent required,
against `next` without them, in one run (issue 15's benchmark, decision 033).

Two assignments of the same size in two tenants (registers belong to a tenant): `plain` in
the run's tenant, with none of it; `rules` in a tenant of its own, with calling rules (every
day 00:00-24:00, so every customer stays callable whatever day the run falls on, but each
claim evaluates them), a register of 1,000,000 numbers extracted today, the existing-customer
exemption field set and consent required, every customer having given phone consent. None of
the customers' numbers (+4790000001, ...) is in the register (+4740000001, ...): both serve
every claim, and the difference is the cost of the checks. Measured in alternating slices
against one server, 200 agents in a closed loop of next + outcome; the ratio rules/plain of
next/s and p50 is taken within each repeat. The load average is recorded around each slice.
"""

import json
import os
from typing import Any

from sqlalchemy import text

from bench import seed
from bench.context import Ctx, Fleet
from bench.figures import pct, ratio, rotated, spread

ALL_DAY = [{"start": "00:00", "end": "24:00"}]
RULES: dict[str, Any] = {
    "weekly": {day: ALL_DAY for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    "public_holidays": False,
    "tenant_closed_days": False,
    "source": "benchmark: open every day, evaluated at every claim",
}


async def _with_checks(ctx: Ctx, assignment_id: int, tenant_id: int, numbers: int) -> None:
    """Rules, consent and a register of `numbers` numbers on the assignment's tenant."""
    async with ctx.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE assignments SET calling_rules = CAST(:rules AS json), "
                "consent_required = true, register_exempt_field = 'customer_since' WHERE id = :a"
            ),
            {"rules": json.dumps(RULES), "a": assignment_id},
        )
        await conn.execute(
            text("UPDATE customers SET phone_consent = true WHERE tenant_id = :t"),
            {"t": tenant_id},
        )
        register_id = (
            await conn.execute(
                text(
                    "INSERT INTO registers (tenant_id, name, max_age_days, extract_date, "
                    "numbers, imported_at, created_at) VALUES (:t, 'Reservasjonsregisteret', "
                    "31, current_date, :n, now(), now()) RETURNING id"
                ),
                {"t": tenant_id, "n": numbers},
            )
        ).scalar_one()
        await conn.execute(
            text(
                "INSERT INTO register_numbers (register_id, phone, tenant_id) "
                "SELECT :r, '+474' || lpad(g::text, 7, '0'), :t FROM generate_series(1, :n) g"
            ),
            {"r": register_id, "t": tenant_id, "n": numbers},
        )
    await seed.analyze(ctx.engine, "customers", "register_numbers", "assignments")


async def contact(ctx: Ctx) -> dict[str, Any]:
    a = ctx.args
    agents_n = a.contact_agents
    other = await seed.create_world(ctx.sessionmaker, agents_n)
    plain = await seed.create_assignment(ctx.sessionmaker, ctx.world, "Contact plain")
    rules = await seed.create_assignment(ctx.sessionmaker, other, "Contact rules")
    await seed.insert_customers(ctx.engine, ctx.world.tenant_id, plain, a.customers, tag="cp")
    await seed.insert_customers(ctx.engine, other.tenant_id, rules, a.customers, tag="cr")
    await _with_checks(ctx, rules, other.tenant_id, a.contact_register)
    for assignment in (plain, rules):
        await seed.place(ctx.sessionmaker, ctx.redis, assignment)
    ctx.log(f"contact: {a.customers:,} customers each, register of {a.contact_register:,}")
    agents = {plain: ctx.world.agents[:agents_n], rules: other.agents[:agents_n]}
    names = {plain: "plain", rules: "rules"}
    runs: dict[str, list[dict[str, Any]]] = {"plain": [], "rules": []}
    async with Fleet(ctx, ["nextcall"]):
        for repeat in range(a.repeats):
            for assignment in rotated([plain, rules], repeat):
                before = os.getloadavg()[0]
                fig, _ = await ctx.slice(
                    "nextcall",
                    assignment,
                    agents[assignment],
                    seconds=a.seconds,
                    warmup=a.warmup if repeat == 0 else a.slice_warmup,
                )
                fig["load_average"] = [round(before, 2), round(os.getloadavg()[0], 2)]
                runs[names[assignment]].append(fig)
                ctx.log(
                    f"contact #{repeat + 1} {names[assignment]}: {fig['next_per_s']:.0f} next/s, "
                    f"p50 {pct(fig, 'next_ms', 'p50') or 0:.2f} ms, empty {fig['empty']}, "
                    f"load {fig['load_average']}"
                )
    out: dict[str, Any] = {
        "agents": agents_n,
        "customers": a.customers,
        "register_numbers": a.contact_register,
    }
    for name, figs in runs.items():
        out[name] = {
            "next_per_s": spread([f["next_per_s"] for f in figs]),
            "p50_ms": spread([pct(f, "next_ms", "p50") for f in figs]),
            "p99_ms": spread([pct(f, "next_ms", "p99") for f in figs]),
            "runs": figs,
        }
    pairs = list(zip(runs["rules"], runs["plain"], strict=True))
    out["next_per_s_ratio"] = spread([ratio(r["next_per_s"], p["next_per_s"]) for r, p in pairs])
    out["p50_ratio"] = spread(
        [ratio(pct(r, "next_ms", "p50"), pct(p, "next_ms", "p50")) for r, p in pairs]
    )
    out["ratios"] = [ratio(r["next_per_s"], p["next_per_s"]) for r, p in pairs]
    return out
