from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String
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
    sent_to_correction = "sent_to_correction"
    corrected = "corrected"
    report_flags_changed = "report_flags_changed"
    bulk_outcome = "bulk_outcome"
    customer_edited = "customer_edited"
    anonymised = "anonymised"
    meeting_cancelled = "meeting_cancelled"
    # A dialer's result (a system attempt, an abandoned or a bridged call), an inbound call.
    dial_result = "dial_result"
    inbound_call = "inbound_call"


class Event(IdMixin, Base):
    """Append-only history of a customer across assignments (rule 25): never deleted, never
    updated in place except for how reports count it (rules 26-27).

    Reports count an event for `report_user_id` at `report_at` when these are set (rule 27),
    else for `user_id` at `created_at`; never when it is `excluded_from_reports` or was
    corrected by a later event (`corrected_by_event_id`, rule 26b).
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_customer", "customer_id", "id"),
        Index("ix_events_tenant_created", "tenant_id", "created_at"),
    )

    # No foreign keys: the log is the largest table and is only appended to, a million rows
    # per large import, and its writers take ids from rows they have just read or written
    # (customers are never deleted: anonymised). The checks cost two thirds of an import's
    # database time (decision 013).
    tenant_id: Mapped[int] = mapped_column(BigInteger, index=True)
    customer_id: Mapped[int] = mapped_column(BigId)
    assignment_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    kind: Mapped[str] = mapped_column(String(30))
    code: Mapped[str | None] = mapped_column(String(100), default=None)
    from_state: Mapped[str | None] = mapped_column(String(100), default=None)
    to_state: Mapped[str | None] = mapped_column(String(100), default=None)
    comment: Mapped[str] = mapped_column(String(4000), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    excluded_from_reports: Mapped[bool] = mapped_column(default=False)
    report_user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    report_at: Mapped[datetime | None] = mapped_column(default=None)
    # Self-correction (rule 26b): the new outcome names the one it corrects, and the old one
    # names its correction; the old one stays in the history and leaves the reports.
    corrects_event_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    corrected_by_event_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
