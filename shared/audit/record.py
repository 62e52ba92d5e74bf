"""Adding an entry to the audit log, inside the caller's unit of work."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.audit.actions import AuditAction
from shared.models import AuditEntry


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a user with the token they came with, or the system (user_id None)."""

    tenant_id: int
    user_id: int | None = None
    token_id: int | None = None


def record(
    session: AsyncSession,
    actor: Actor,
    action: AuditAction,
    target: tuple[str, int] | None = None,
    **data: Any,
) -> AuditEntry:
    """One entry, committed with the caller's change. `data`: ids, field names and counts."""
    entry = AuditEntry(
        tenant_id=actor.tenant_id,
        user_id=actor.user_id,
        token_id=actor.token_id or None,
        action=action.value,
        target_type=target[0] if target else "",
        target_id=target[1] if target else None,
        data=data,
    )
    session.add(entry)
    return entry
