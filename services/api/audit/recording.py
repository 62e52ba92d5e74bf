"""Recording an audit entry from the API: one line at the place that reads or changes.

`audit` joins the caller's unit of work (a change and its entry commit together); `audit_now`
commits an entry of its own, for reads, before their answer leaves: a read that cannot be
recorded is not answered. Never called on /next or outcomes (DESIGN 5: the hot path writes
nowhere but Redis and the membership).
"""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.api.auth.cache import Principal
from services.api.resources import Resources
from shared.audit import Actor, AuditAction, record


def actor_of(principal: Principal) -> Actor:
    return Actor(principal.tenant_id, principal.user_id, principal.token_id)


def audit(
    session: AsyncSession,
    principal: Principal,
    action: AuditAction,
    target: tuple[str, int] | None = None,
    **data: Any,
) -> None:
    """Add the entry to `session`'s unit of work."""
    record(session, actor_of(principal), action, target, **data)


async def audit_now(
    res: Resources,
    principal: Principal,
    action: AuditAction,
    target: tuple[str, int] | None = None,
    **data: Any,
) -> None:
    """Record the entry in a unit of work of its own (reads)."""
    async with res.session() as session:
        record(session, actor_of(principal), action, target, **data)
