"""/v1/blocked-phones: the tenant's blocklist and do-not-call numbers (rule 12).

Blocking a number takes its customers out of the queue when no other number on their card may
be called; unblocking brings them back. Both happen before the answer.
"""

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from services.api.access import BlocklistKeeper
from services.api.blocklist import service
from services.api.blocklist.schemas import BlockedPhoneChange, BlockedPhoneCreate, BlockedPhoneOut
from services.api.deps import Res
from services.api.errors import refuses
from services.api.fields import MAX_ID

router = APIRouter(tags=["blocked phones"])


@router.get("/blocked-phones", summary="List blocked phones")
async def list_blocked(
    principal: BlocklistKeeper,
    resources: Res,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after_id: Annotated[int, Query(ge=0, le=MAX_ID, description="Page after this id.")] = 0,
) -> list[BlockedPhoneOut]:
    """Blocked numbers in the order they were added, a page at a time."""
    async with resources.session() as session:
        rows = await service.list_blocked(
            session, principal.tenant_id, limit=limit, after_id=after_id
        )
        return [BlockedPhoneOut.model_validate(r) for r in rows]


@router.post(
    "/blocked-phones",
    responses=refuses("a value that is no phone number"),
    summary="Block a phone number",
    status_code=status.HTTP_201_CREATED,
)
async def block(
    body: BlockedPhoneCreate, principal: BlocklistKeeper, resources: Res
) -> BlockedPhoneChange:
    """Block a number; one already blocked answers 409."""
    async with resources.session() as session:
        row, affected = await service.block(session, principal.tenant_id, data=body)
    async with resources.session() as session:
        await service.replace_affected(session, resources.redis, affected)
    return BlockedPhoneChange(
        id=row.id,
        phone=row.phone,
        reason=row.reason,
        created_at=row.created_at,
        customers_affected=sum(len(ids) for ids in affected.values()),
    )


@router.delete(
    "/blocked-phones/{phone}",
    responses=refuses("a value that is no phone number"),
    summary="Unblock a phone number",
)
async def unblock(
    phone: Annotated[str, Path(min_length=1, max_length=50)],
    principal: BlocklistKeeper,
    resources: Res,
) -> BlockedPhoneChange:
    """Unblock a number, in any notation (URL-encode the "+" as %2B or leave it as is)."""
    async with resources.session() as session:
        row, affected = await service.unblock(session, principal.tenant_id, phone)
    async with resources.session() as session:
        await service.replace_affected(session, resources.redis, affected)
    return BlockedPhoneChange(
        id=row.id,
        phone=row.phone,
        reason=row.reason,
        created_at=row.created_at,
        customers_affected=sum(len(ids) for ids in affected.values()),
    )
