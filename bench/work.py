"""Equal work: what a slice's cycles wrote, read back from the database.

nextcall and the peer must do the same work per cycle (the claim, the attempt with its count,
the event row), or the ratio compares different things. Around each slice the benchmark reads
the sum of the assignment's attempts and the event rows written since the slice began: each
finished cycle must have added exactly one of each. The floor and the ideal write nothing.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.load import NEXTCALL_KINDS, Kind

# Where each server keeps its memberships (the peer works on a bench-only copy, seed.py).
TABLES: dict[str, str] = {
    "peer": "bench_memberships",
    **dict.fromkeys(NEXTCALL_KINDS, "memberships"),
}


@dataclass(frozen=True, slots=True)
class Tally:
    attempts: int
    last_event_id: int


async def tally(engine: AsyncEngine, kind: Kind, assignment_id: int) -> Tally | None:
    """The assignment's attempts and the newest event id; None for servers that write nothing."""
    table = TABLES.get(kind)
    if table is None:
        return None
    async with engine.connect() as conn:
        attempts = await conn.scalar(
            text(f"SELECT coalesce(sum(attempts), 0) FROM {table} WHERE assignment_id = :a"),
            {"a": assignment_id},
        )
        last = await conn.scalar(text("SELECT coalesce(max(id), 0) FROM events"))
        await conn.rollback()
    return Tally(int(attempts or 0), int(last or 0))


async def written(
    engine: AsyncEngine, before: Tally | None, kind: Kind, assignment_id: int, cycles: int
) -> dict[str, Any] | None:
    """What the slice wrote against the cycles the client finished (warm-up included):
    `equal` when every cycle added one attempt and one attempt event, nothing more."""
    after = await tally(engine, kind, assignment_id)
    if before is None or after is None:
        return None
    async with engine.connect() as conn:
        events = await conn.scalar(
            text(
                "SELECT count(*) FROM events WHERE id > :last AND assignment_id = :a "
                "AND kind = 'attempt' AND code = 'no_answer'"
            ),
            {"last": before.last_event_id, "a": assignment_id},
        )
        await conn.rollback()
    attempts = after.attempts - before.attempts
    return {
        "cycles": cycles,
        "attempts": attempts,
        "events": int(events or 0),
        "equal": attempts == cycles and events == cycles,
    }
