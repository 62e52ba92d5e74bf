"""The tenant's blocklist (rule 12): numbers that must not be called, and the customers whose
place in the queue depends on them."""

from collections.abc import Sequence

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.assignments.service import place_customers
from services.api.blocklist.schemas import BlockedPhoneCreate
from services.api.errors import Conflict, NotFound, Unprocessable
from services.api.pagination import IdKey, Keyset, PageRequest
from shared.contact.affected import Affected, affected_by
from shared.customers.phones import InvalidPhone, normalise_phone
from shared.infra.clock import utc_now
from shared.models import Assignment, BlockedPhone

BLOCKED: Keyset[IdKey] = Keyset("blocked-phones", IdKey)


def normalised(raw: str) -> str:
    try:
        return normalise_phone(raw)
    except InvalidPhone as exc:
        raise Unprocessable(str(exc)) from exc


async def list_blocked(
    session: AsyncSession, tenant_id: int, *, page: PageRequest[IdKey]
) -> Sequence[BlockedPhone]:
    query = select(BlockedPhone).where(BlockedPhone.tenant_id == tenant_id)
    return (await session.scalars(page.window(query, BlockedPhone.id))).all()


async def block(
    session: AsyncSession, tenant_id: int, *, data: BlockedPhoneCreate, user_id: int
) -> tuple[BlockedPhone, Affected]:
    phone = normalised(data.phone)
    if data.expires_at is not None and data.expires_at <= utc_now():
        raise Unprocessable("expires_at is in the past", code="expiry_in_past")
    existing = await session.scalar(
        select(BlockedPhone.id).where(
            BlockedPhone.tenant_id == tenant_id, BlockedPhone.phone == phone
        )
    )
    if existing is not None:
        raise Conflict(f"{phone} is already blocked", id=existing)
    row = BlockedPhone(
        tenant_id=tenant_id,
        phone=phone,
        reason=data.reason,
        blocked_by=user_id,
        expires_at=data.expires_at,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:  # blocked by a concurrent request
        raise Conflict(f"{phone} is already blocked") from exc
    return row, await affected_by(session, tenant_id, [phone])


async def unblock(
    session: AsyncSession, tenant_id: int, raw_phone: str
) -> tuple[BlockedPhone, Affected]:
    phone = normalised(raw_phone)
    row = await session.scalar(
        select(BlockedPhone).where(BlockedPhone.tenant_id == tenant_id, BlockedPhone.phone == phone)
    )
    if row is None:
        raise NotFound(f"{phone} is not blocked")
    await session.delete(row)
    await session.flush()
    return row, await affected_by(session, tenant_id, [phone])


async def replace_affected(session: AsyncSession, redis: Redis, affected: Affected) -> int:
    """Re-place the customers in their queues from committed facts: call after the commit."""
    placed = 0
    for assignment_id, customer_ids in affected.items():
        assignment = await session.get(Assignment, assignment_id)
        if assignment is not None:
            placed += await place_customers(session, redis, assignment, customer_ids=customer_ids)
    return placed
