"""A bulk outcome on more customers than the request applies inline: a worker job (rule 28)."""

from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.api.selections.service import INLINE_LIMIT
from services.queue import AssignmentQueue
from services.worker.jobs.outcomes import run_bulk_outcome_job
from shared.models import Event, Membership
from tests.api.world import World


async def test_large_selection_runs_as_a_job_with_progress(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    total = INLINE_LIMIT + 1
    await world.customers([{"external_id": f"big-{i}"} for i in range(total)])
    r = await world.client.post(
        "/v1/bulk-outcomes",
        json={
            "selection": {"assignment_id": world.assignment.id},
            "code": "wrong_number",
            "expected_count": total,
        },
        headers=world.auth(world.supervisor[1]),
    )
    assert r.status_code == 202, r.text
    job = r.json()
    assert (job["kind"], job["status"], job["total"], job["processed"]) == (
        "outcome",
        "queued",
        total,
        0,
    )
    # Nothing is written before the job runs.
    states = await world.session.scalars(select(Membership.state).distinct())
    assert set(states) == {"free"}

    await run_bulk_outcome_job(job["id"], sessionmaker=sessionmaker, redis=redis, batch_size=300)

    done = (
        await world.client.get(
            f"/v1/bulk-jobs/{job['id']}", headers=world.auth(world.supervisor[1])
        )
    ).json()
    assert (done["status"], done["processed"], done["succeeded"], done["errors"]) == (
        "done",
        total,
        total,
        [],
    )
    assert done["finished_at"] is not None
    states = await world.session.scalars(select(Membership.state).distinct())
    assert set(states) == {"wrong_number"}
    events = await world.session.scalar(
        select(func.count(Event.id)).where(Event.kind == "outcome", Event.code == "wrong_number")
    )
    assert events == total
    tagged = await world.session.scalar(select(Event.data).limit(1))
    assert tagged == {"bulk_job_id": job["id"]}
    depth = await AssignmentQueue(redis, world.assignment.id).depth()
    assert depth["free"] == 0
    # A done job run again changes nothing.
    await run_bulk_outcome_job(job["id"], sessionmaker=sessionmaker, redis=redis)
    again = await world.session.scalar(select(func.count(Event.id)))
    assert again == total
