from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, BigId, IdMixin, utcnow


class EventKind(StrEnum):
    imported = "imported"
    attempt = "attempt"
    outcome = "outcome"
    force_released = "force_released"
    moved = "moved"
    followup_changed = "followup_changed"
    followup_fell_back = "followup_fell_back"


class Event(IdMixin, Base):
    """Append-only history of a customer across assignments (rule 25): never updated in place
    except for report attribution, never deleted."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_customer", "customer_id", "id"),)

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"), index=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    assignment_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    kind: Mapped[str] = mapped_column(String(30))
    code: Mapped[str | None] = mapped_column(String(100), default=None)
    from_state: Mapped[str | None] = mapped_column(String(100), default=None)
    to_state: Mapped[str | None] = mapped_column(String(100), default=None)
    comment: Mapped[str] = mapped_column(String(4000), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
