"""Do-not-call registers of a tenant (rule 34): create, list, delete, import an extract."""

import asyncio
from collections.abc import Sequence
from datetime import date

from redis.exceptions import RedisError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.customers.service import ServiceUnavailable
from services.api.errors import Conflict, NotFound, Unprocessable
from services.api.pagination import IdKey, Keyset, PageRequest
from services.api.registers.schemas import RegisterCreate, RegisterOut
from services.api.resources import Resources
from shared.contact.registers import RegisterState, stale_reason
from shared.infra.clock import utc_now
from shared.infra.jobqueue import enqueue_register_import, enqueue_tenant_rebuild
from shared.models import ImportStatus, Register, RegisterImport, RegisterNumber

REGISTERS: Keyset[IdKey] = Keyset("registers", IdKey)


def register_out(register: Register, today: date) -> RegisterOut:
    out = RegisterOut.model_validate(register)
    state = RegisterState(register.name, register.extract_date, register.max_age_days)
    out.stale = stale_reason([state], today)
    return out


async def list_registers(
    session: AsyncSession, tenant_id: int, *, page: PageRequest[IdKey]
) -> Sequence[Register]:
    query = select(Register).where(Register.tenant_id == tenant_id)
    return (await session.scalars(page.window(query, Register.id))).all()


async def create(
    session: AsyncSession, tenant_id: int, body: RegisterCreate, *, user_id: int
) -> Register:
    taken = await session.scalar(
        select(Register.id).where(Register.tenant_id == tenant_id, Register.name == body.name)
    )
    if taken is not None:
        raise Conflict(f"a register named '{body.name}' exists", id=taken)
    register = Register(
        tenant_id=tenant_id, name=body.name, max_age_days=body.max_age_days, created_by=user_id
    )
    session.add(register)
    try:
        await session.flush()
    except IntegrityError as exc:  # created by a concurrent request
        raise Conflict(f"a register named '{body.name}' exists") from exc
    return register


async def tenant_register(session: AsyncSession, tenant_id: int, register_id: int) -> Register:
    register = await session.scalar(
        select(Register).where(Register.id == register_id, Register.tenant_id == tenant_id)
    )
    if register is None:
        raise NotFound(f"register {register_id} not found")
    return register


async def remove(session: AsyncSession, tenant_id: int, register_id: int) -> Register:
    """The register and its numbers, in one transaction."""
    register = await tenant_register(session, tenant_id, register_id)
    await session.execute(delete(RegisterNumber).where(RegisterNumber.register_id == register_id))
    await session.delete(register)
    await session.flush()
    return register


async def import_later(
    resources: Resources,
    *,
    tenant_id: int,
    register_id: int,
    user_id: int,
    extract_date: date,
    payload: bytes,
) -> RegisterImport:
    """Store the extract and queue the worker's job, after the commit."""
    if extract_date > utc_now().date():
        raise Unprocessable("extract_date is in the future", code="extract_in_future")
    async with resources.session() as session:
        await tenant_register(session, tenant_id, register_id)
        job = RegisterImport(
            tenant_id=tenant_id,
            register_id=register_id,
            user_id=user_id,
            extract_date=extract_date,
            total_rows=payload.count(b"\n") + 1,
            payload=payload,
        )
        session.add(job)
    try:
        await asyncio.to_thread(enqueue_register_import, resources.settings, job.id)
    except RedisError as exc:
        async with resources.session() as session:
            await session.execute(
                update(RegisterImport)
                .where(RegisterImport.id == job.id)
                .values(status=ImportStatus.failed, payload=None)
            )
        raise ServiceUnavailable("the extract could not be queued; try again shortly") from exc
    return job


async def get_import(
    session: AsyncSession, tenant_id: int, register_id: int, import_id: int
) -> RegisterImport:
    job = await session.scalar(
        select(RegisterImport).where(
            RegisterImport.id == import_id,
            RegisterImport.register_id == register_id,
            RegisterImport.tenant_id == tenant_id,
        )
    )
    if job is None:
        raise NotFound(f"import {import_id} of register {register_id} not found")
    return job


async def rebuild_later(resources: Resources, tenant_id: int) -> None:
    """Queue the rebuild of the tenant's queues (their customers' bars changed)."""
    await asyncio.to_thread(enqueue_tenant_rebuild, resources.settings, tenant_id)
