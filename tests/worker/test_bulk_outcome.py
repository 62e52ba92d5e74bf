"""outcomes.run: the worker's bulk outcome checks again when it runs, reports progress, and
writes everything or nothing (rule 28)."""

import asyncio
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import AssignmentQueue
from services.worker.jobs.outcomes import run_bulk_outcome_job
from shared.demo import SEED_FLOW
from shared.errors import Conflict
from shared.flows import FlowSpec
from shared.infra.db import create_engine, create_sessionmaker
from shared.infra.settings import Settings
from shared.models import Base, BulkJob, BulkKind, Event, Membership
from shared.selections.bulk_outcome import BulkOutcome, load_batch, write_all, write_batch
from shared.selections.selection import Selection
from tests.factories import (
    add_customers,
    create_assignment,
    create_flow,
    create_tenant,
    create_user,
)
from tests.worker.conftest import NOW, Campaign


async def _job(campaign: Campaign, code: str, total: int, **selection: Any) -> BulkJob:
    """A bulk outcome job as the API queues it."""
    job = BulkJob(
        tenant_id=campaign.tenant.id,
        user_id=campaign.agent.id,
        kind=BulkKind.outcome,
        params={
            "selection": {"assignment_id": campaign.assignment.id, **selection},
            "code": code,
            "comment": "",
            "follow_up_at": None,
        },
        total=total,
    )
    campaign.session.add(job)
    await campaign.session.commit()
    return job


async def _states(session: AsyncSession) -> list[tuple[str, int]]:
    rows = await session.execute(
        select(Membership.state, Membership.version).order_by(Membership.customer_id)
    )
    return [(str(state), int(version)) for state, version in rows]


async def _finished(sessionmaker: async_sessionmaker[AsyncSession], job_id: int) -> BulkJob:
    async with sessionmaker() as session:
        job = await session.get(BulkJob, job_id)
        assert job is not None
        return job


async def test_applies_in_batches_and_counts_progress(
    campaign: Campaign, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    await campaign.customers(5)
    job = await _job(campaign, "sale", 5)
    await run_bulk_outcome_job(job.id, sessionmaker=sessionmaker, redis=redis, batch_size=2)
    done = await _finished(sessionmaker, job.id)
    assert (done.status, done.processed, done.succeeded, done.failed) == ("done", 5, 5, 0)
    assert await _states(campaign.session) == [("sale", 2)] * 5
    assert (await campaign.queue.depth())["free"] == 0


async def test_a_state_changed_since_the_request_fails_the_job_and_writes_nothing(
    campaign: Campaign, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    c = await campaign.customers(3)
    job = await _job(campaign, "not_interested", 3)
    # Meanwhile an agent closed one customer: 'not_interested' is not allowed from 'sale'.
    await campaign.set_membership(c[1], state="sale", version=2)
    before = await _states(campaign.session)
    await run_bulk_outcome_job(job.id, sessionmaker=sessionmaker, redis=redis, batch_size=2)
    failed = await _finished(sessionmaker, job.id)
    assert (failed.status, failed.succeeded, failed.failed) == ("failed", 0, 3)
    assert failed.errors[0]["states"] == ["sale"]
    assert await _states(campaign.session) == before
    assert await campaign.session.scalar(select(func.count(Event.id))) == 0


async def test_a_different_count_fails_the_job(
    campaign: Campaign, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    await campaign.customers(3)
    job = await _job(campaign, "sale", 3)
    await campaign.customers(1)  # a later import grew the selection
    await run_bulk_outcome_job(job.id, sessionmaker=sessionmaker, redis=redis)
    failed = await _finished(sessionmaker, job.id)
    assert failed.status == "failed" and failed.errors[0]["count"] == 4
    assert {s for s, _ in await _states(campaign.session)} == {"free"}


async def test_a_customer_held_when_the_job_runs_fails_it(
    campaign: Campaign, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    c = await campaign.customers(2)
    job = await _job(campaign, "sale", 2)
    claimed = await AssignmentQueue(redis, campaign.assignment.id).select(
        c[0].id, user_id=campaign.agent.id, lease_seconds=300
    )
    assert claimed.customer_id == c[0].id
    await run_bulk_outcome_job(job.id, sessionmaker=sessionmaker, redis=redis)
    failed = await _finished(sessionmaker, job.id)
    assert failed.status == "failed"
    assert failed.errors[0]["held"] == [{"customer_id": c[0].id, "user_id": campaign.agent.id}]
    assert {s for s, _ in await _states(campaign.session)} == {"free"}


async def test_an_agents_write_during_the_bulk_rolls_all_of_it_back(
    campaign: Campaign, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The steps the job runs, with an agent's outcome between a batch's read and its write:
    the version check refuses it, and the batch already written goes back too."""
    c = await campaign.customers(4)
    flow = FlowSpec.model_validate(SEED_FLOW)
    bulk = BulkOutcome(
        tenant_id=campaign.tenant.id,
        user_id=campaign.agent.id,
        selection=Selection(assignment_id=campaign.assignment.id),
        code="sale",
    )
    async with sessionmaker() as work:
        first = await load_batch(work, bulk, after_id=0, limit=2)
        await write_batch(work, flow, bulk, first, now=NOW)
        second = await load_batch(work, bulk, after_id=first[-1].id, limit=2)
        async with sessionmaker() as agent:
            await agent.execute(
                update(Membership)
                .where(Membership.customer_id == c[3].id)
                .values(state="interested", version=Membership.version + 1)
            )
            await agent.commit()
        try:
            await write_batch(work, flow, bulk, second, now=NOW)
        except Conflict as exc:
            refused: Conflict | None = exc
        else:
            refused = None
        await work.rollback()
    assert refused is not None and "nothing was written" in refused.message
    assert await _states(campaign.session) == [
        ("free", 1),
        ("free", 1),
        ("free", 1),
        ("interested", 2),
    ]
    assert await campaign.session.scalar(select(func.count(Event.id))) == 0


async def test_progress_is_reported_after_every_batch(
    campaign: Campaign, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """What the job commits as `processed` on its progress session, batch by batch."""
    await campaign.customers(5)
    bulk = BulkOutcome(
        tenant_id=campaign.tenant.id,
        user_id=campaign.agent.id,
        selection=Selection(assignment_id=campaign.assignment.id),
        code="wrong_number",
    )
    seen: list[int] = []

    async def report(processed: int) -> None:
        seen.append(processed)

    async with sessionmaker() as work:
        written = await write_all(
            work,
            FlowSpec.model_validate(SEED_FLOW),
            bulk,
            expected=5,
            now=NOW,
            batch_size=2,
            progress=report,
        )
        await work.commit()
    assert seen == [2, 4, 5] and len(written) == 5


async def test_on_sqlite_the_job_finishes_with_its_progress_at_the_end(
    tmp_path: Path, redis: Redis
) -> None:
    """The embedded default has one writer at a time: the job must not wait on itself."""
    engine = create_engine(Settings(data_dir=tmp_path), process_name="tests")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    makes = create_sessionmaker(engine)
    try:
        async with makes() as session:
            tenant = await create_tenant(session)
            flow = await create_flow(session, tenant)
            assignment = await create_assignment(session, tenant, flow)
            agent = await create_user(session, tenant)
            await add_customers(session, redis, assignment, [{} for _ in range(5)])
            job = BulkJob(
                tenant_id=tenant.id,
                user_id=agent[0].id,
                kind=BulkKind.outcome,
                params={"selection": {"assignment_id": assignment.id}, "code": "sale"},
                total=5,
            )
            session.add(job)
            await session.commit()
        await asyncio.wait_for(
            run_bulk_outcome_job(job.id, sessionmaker=makes, redis=redis, batch_size=2), 30
        )
        done = await _finished(makes, job.id)
        assert (done.status, done.processed, done.succeeded) == ("done", 5, 5)
        async with makes() as session:
            assert await _states(session) == [("sale", 2)] * 5
    finally:
        await engine.dispose()
