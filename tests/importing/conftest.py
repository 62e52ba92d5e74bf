"""An assignment to import into, custom fields, and a helper that runs an import."""

from dataclasses import dataclass, field

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import AssignmentQueue
from shared import importing
from shared.flows import FlowSpec
from shared.importing import ImportFormat
from shared.membership.placement import load_queue_facts
from shared.models import (
    Assignment,
    CustomFieldDefinition,
    FieldType,
    Flow,
    ImportJob,
    ImportStatus,
    Permission,
    Tenant,
    User,
)
from tests.factories import create_assignment, create_flow, create_tenant, create_user


@dataclass
class Target:
    tenant: Tenant
    flow: Flow
    assignment: Assignment
    user: User
    placed: list[int] = field(default_factory=list)

    @property
    def spec(self) -> FlowSpec:
        return FlowSpec.model_validate({"states": self.flow.states, "outcomes": self.flow.outcomes})


@pytest.fixture
async def target(session: AsyncSession) -> Target:
    tenant = await create_tenant(session)
    flow = await create_flow(session, tenant)
    assignment = await create_assignment(session, tenant, flow)
    user, _ = await create_user(
        session, tenant, name="Setup", permissions=[Permission.assignment_setup.value]
    )
    return Target(tenant, flow, assignment, user)


async def add_field(
    session: AsyncSession,
    tenant: Tenant,
    key: str,
    type: FieldType = FieldType.text,
    *,
    required: bool = False,
    unique_if_filled: bool = False,
) -> CustomFieldDefinition:
    definition = CustomFieldDefinition(
        tenant_id=tenant.id,
        key=key,
        type=type.value,
        required=required,
        unique_if_filled=unique_if_filled,
    )
    session.add(definition)
    await session.commit()
    return definition


async def create_import(
    session: AsyncSession,
    target: Target,
    payload: bytes,
    fmt: ImportFormat = ImportFormat.csv,
    *,
    assignment: Assignment | None = None,
) -> ImportJob:
    job = ImportJob(
        tenant_id=target.tenant.id,
        assignment_id=(assignment or target.assignment).id,
        user_id=target.user.id,
        format=fmt.value,
        status=ImportStatus.queued,
        payload=payload,
    )
    session.add(job)
    await session.commit()
    return job


async def run_file(
    sessionmaker: async_sessionmaker[AsyncSession],
    target: Target,
    payload: bytes,
    fmt: ImportFormat = ImportFormat.csv,
    *,
    redis: Redis | None = None,
    assignment: Assignment | None = None,
    batch_size: int = importing.DEFAULT_BATCH_SIZE,
) -> ImportJob:
    """Runs an import of `payload` to its end and returns the job as stored.

    With `redis`, each committed batch is placed in the assignment's queue, as the API and
    the worker do; the placed customer ids are collected on `target.placed` either way.
    """
    into = assignment or target.assignment
    async with sessionmaker() as session:
        job = await create_import(session, target, payload, fmt, assignment=into)

    async def placed(customer_ids: list[int]) -> None:
        target.placed.extend(customer_ids)
        if redis is None:
            return
        queue = AssignmentQueue(redis, into.id)
        async with sessionmaker() as session:
            async for batch in load_queue_facts(
                session, into, target.spec, customer_ids=customer_ids
            ):
                await queue.place_sources(batch)

    await importing.run_import(
        sessionmaker, job.id, on_batch_committed=placed, batch_size=batch_size
    )
    async with sessionmaker() as session:
        stored = await session.get(ImportJob, job.id)
    assert stored is not None
    return stored
