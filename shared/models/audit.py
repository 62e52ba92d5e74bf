from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, BigId, IdMixin, utcnow


class AuditEntry(IdMixin, Base):
    """Who did what to which thing, when (issue 15 point 6; decision 034). Appended only:
    the database refuses UPDATE and DELETE on the table (a trigger, migration 0011).

    No personal data: ids, action names, field names and counts; never names, numbers,
    e-mail addresses or search queries. `user_id` is None for the system (the retention job).
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        # Administrators page newest first, optionally by actor or action (decision 026).
        Index("ix_audit_log_tenant_page", "tenant_id", "id"),
        Index("ix_audit_log_tenant_user", "tenant_id", "user_id", "id"),
        Index("ix_audit_log_tenant_action", "tenant_id", "action", "id"),
        # "Who read this customer's details?"
        Index("ix_audit_log_tenant_target", "tenant_id", "target_type", "target_id", "id"),
    )

    # No foreign keys: appended on reads of customer details, the log's busiest writer.
    tenant_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # The token the request came with: a dialer's or integration's token tells them apart.
    token_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    action: Mapped[str] = mapped_column(String(50))
    # "customer", "user", "token", "flow", ...; and its id (None when the action has no one
    # target: a full search, a retention run).
    target_type: Mapped[str] = mapped_column(String(30), default="")
    target_id: Mapped[int | None] = mapped_column(BigId, default=None)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
