"""/v1/blocked-phones: the tenant's blocklist and do-not-call numbers (rule 12).

Blocking a number takes its customers out of the queue when no other number on their card may
be called; unblocking brings them back. Both happen before the answer.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from services.api.access import BlocklistKeeper
from services.api.audit.recording import audit
from services.api.blocklist import service
from services.api.blocklist.schemas import BlockedPhoneChange, BlockedPhoneCreate, BlockedPhoneOut
from services.api.deps import Res
from services.api.errors import refuses
from services.api.pagination import IdKey, Page, PageRequest, by_id, paging
from shared.audit import AuditAction
from shared.contact.affected import Affected
from shared.models import BlockedPhone

router = APIRouter(tags=["blocked phones"])

BlockedPages = Annotated[PageRequest[IdKey], Depends(paging(service.BLOCKED))]


@router.get("/blocked-phones", summary="List blocked phones")
async def list_blocked(
    principal: BlocklistKeeper, resources: Res, page: BlockedPages
) -> Page[BlockedPhoneOut]:
    """Blocked numbers in the order they were added, a page at a time."""
    async with resources.session() as session:
        rows = await service.list_blocked(session, principal.tenant_id, page=page)
        return page.answer(
            Page[BlockedPhoneOut], rows, key=by_id, item=BlockedPhoneOut.model_validate
        )


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
        row, affected = await service.block(
            session, principal.tenant_id, data=body, user_id=principal.user_id
        )
        audit(session, principal, AuditAction.blocklist_added, ("blocked_phone", row.id))
    async with resources.session() as session:
        await service.replace_affected(session, resources.redis, affected)
    return _change(row, affected)


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
        audit(session, principal, AuditAction.blocklist_removed, ("blocked_phone", row.id))
    async with resources.session() as session:
        await service.replace_affected(session, resources.redis, affected)
    return _change(row, affected)


def _change(row: BlockedPhone, affected: Affected) -> BlockedPhoneChange:
    return BlockedPhoneChange(
        id=row.id,
        phone=row.phone,
        reason=row.reason,
        created_at=row.created_at,
        blocked_by=row.blocked_by,
        expires_at=row.expires_at,
        customers_affected=sum(len(ids) for ids in affected.values()),
    )
