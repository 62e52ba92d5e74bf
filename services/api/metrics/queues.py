"""What the queues hold, read from Redis when /metrics is scraped.

Every API process answers the same (Redis is shared): dashboards and alerts take the max
over instances. Assignment ids are tenants' data, so only the QUEUE_TOP_ASSIGNMENTS largest
queues are reported one by one; the others are summed under assignment="other", and
`sum by (where)` still gives the whole.
"""

import asyncio
import time
from collections.abc import Sequence

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from redis.asyncio import Redis

from services.queue import AssignmentQueue, Overdue
from shared.infra.metrics import OTHER, QUEUE_TOP_ASSIGNMENTS

# Assignments read at the same time; bounds the scrape's Redis connections.
CONCURRENCY = 16
# A follow-up is overdue once it is this late and someone who could take it asks for work:
# /next serves due follow-ups first, so a minute is far beyond the promise of rule 20 (1 s).
OVERDUE_AFTER_MS = 60_000
# "Asks for work": claimed in the assignment within this.
WORKING_WITHIN_MS = 5 * 60_000


async def queue_families(redis: Redis, assignment_ids: Sequence[int]) -> list[Metric]:
    limit = asyncio.Semaphore(CONCURRENCY)
    at = int(time.time() * 1000)

    async def one(assignment_id: int) -> tuple[dict[str, int], Overdue]:
        async with limit:
            queue = AssignmentQueue(redis, assignment_id)
            depth = await queue.depth()
            overdue = await queue.overdue(
                due_before=at - OVERDUE_AFTER_MS, worked_since=at - WORKING_WITHIN_MS
            )
            return depth, overdue

    read = await asyncio.gather(*(one(i) for i in assignment_ids))
    depths = {i: depth for i, (depth, _) in zip(assignment_ids, read, strict=True)}
    overdue = [o for _, o in read]
    return [
        depth_family(depths),
        *overdue_families([o.by_kind for o in overdue], at),
        GaugeMetricFamily(
            "nextcall_queue_assignments", "Active assignments.", value=len(assignment_ids)
        ),
        GaugeMetricFamily(
            "nextcall_agents_working",
            "Agents who asked for work in the last 5 minutes (summed over assignments).",
            value=sum(o.working for o in overdue),
        ),
    ]


def depth_family(depths: dict[int, dict[str, int]]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "nextcall_queue_depth",
        "Customers in the queues by where they wait (free, cool, sfu, pfu, limit, blocked, "
        f"held): the {QUEUE_TOP_ASSIGNMENTS} largest assignments, the rest as 'other'.",
        labels=["assignment", "where"],
    )
    ranked = sorted(depths, key=lambda i: (-sum(depths[i].values()), i))
    rest: dict[str, int] = {}
    for assignment_id in ranked[QUEUE_TOP_ASSIGNMENTS:]:
        for where, value in depths[assignment_id].items():
            rest[where] = rest.get(where, 0) + value
    for assignment_id in ranked[:QUEUE_TOP_ASSIGNMENTS]:
        for where, value in sorted(depths[assignment_id].items()):
            family.add_metric([str(assignment_id), where], value)
    for where, value in sorted(rest.items()):
        family.add_metric([OTHER, where], value)
    return family


def overdue_families(
    found: Sequence[dict[str, tuple[int, int]]], at: int
) -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
    count = GaugeMetricFamily(
        "nextcall_followups_overdue",
        "Follow-ups over a minute past due while someone who could take them asks for work "
        "(shared: anyone on the assignment; personal: the owner), by kind.",
        labels=["kind"],
    )
    late = GaugeMetricFamily(
        "nextcall_followups_overdue_seconds",
        "How late the oldest of those overdue follow-ups is, by kind (0 when none).",
        labels=["kind"],
    )
    for kind in ("shared", "personal"):
        total = sum(f[kind][0] for f in found)
        oldest = min((f[kind][1] for f in found if f[kind][0]), default=None)
        count.add_metric([kind], total)
        late.add_metric([kind], 0 if oldest is None else (at - oldest) / 1000)
    return count, late
