from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, IdMixin, TimestampMixin


class PresentationMode(StrEnum):
    """Rule 8 and 35: the agent takes and dials (preview), or a dialer dials and bridges
    answered calls: one call per ready agent (progressive) or more, by pacing (predictive)."""

    preview = "preview"
    progressive = "progressive"
    predictive = "predictive"

    @property
    def dialed(self) -> bool:
        """Does a dialer start the calls (no manual select, reservations allowed)?"""
        return self is not PresentationMode.preview


class AttemptLimitAction(StrEnum):
    """What happens to a customer at the attempt limit (rule 8)."""

    last = "last"  # still served, after every customer under the limit
    stop = "stop"  # no longer served; counted as "at attempt limit"


class Assignment(IdMixin, TimestampMixin, Base):
    __tablename__ = "assignments"

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    flow_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("flows.id"))
    presentation_mode: Mapped[str] = mapped_column(String(20), default=PresentationMode.preview)
    attempt_limit: Mapped[int | None] = mapped_column(default=None)
    attempt_limit_action: Mapped[str] = mapped_column(String(10), default=AttemptLimitAction.last)
    cooldown_seconds: Mapped[int] = mapped_column(default=0)
    lease_seconds: Mapped[int] = mapped_column(default=300)
    # Up to three {"key": "attempts"|"last_attempt_at"|"import_order"|"custom:<field>",
    # "direction": "asc"|"desc"}; import order always breaks remaining ties.
    sort_keys: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    personal_followups_first: Mapped[bool] = mapped_column(default=True)
    # A personal follow-up passed by more than this many minutes falls back to shared (rule 22);
    # None (the default) keeps it personal however late it is.
    personal_followup_fallback_minutes: Mapped[int | None] = mapped_column(default=None)
    # Contact hours in the customer's local time, "HH:MM"; both empty means any time.
    contact_hours_start: Mapped[str | None] = mapped_column(String(5), default=None)
    contact_hours_end: Mapped[str | None] = mapped_column(String(5), default=None)
    default_time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    # Calling rules (shared.calling.rules.CallingRules as JSON); None: the contact hours above,
    # or any time. Exclusive with contact hours, which are the one-window case (decision 029).
    calling_rules: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # Promised call-backs may be served outside the calling rules (off by default, rule 33).
    callbacks_break_rules: Mapped[bool] = mapped_column(default=False)
    # Do-not-call registers do not apply to existing customers, where the law allows it
    # (Norway: markedsføringsloven § 12): those with a value in this custom field. None: the
    # registers apply to everyone (decision 033).
    register_exempt_field: Mapped[str | None] = mapped_column(String(100), default=None)
    # Only customers who gave phone consent are served (rule 34).
    consent_required: Mapped[bool] = mapped_column(default=False)
    visible_to_all: Mapped[bool] = mapped_column(default=True)
    visible_user_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    visible_from: Mapped[datetime | None] = mapped_column(default=None)
    visible_until: Mapped[datetime | None] = mapped_column(default=None)
    active: Mapped[bool] = mapped_column(default=True)
    # Predictive pacing keeps abandoned / answered calls under this (rule 36; Ofcom's 3 %).
    abandon_cap: Mapped[float] = mapped_column(default=0.03)


class Segment(IdMixin, TimestampMixin, Base):
    """A named sub-list of an assignment; no segment means "unsegmented"."""

    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("assignment_id", "name"),)

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"), index=True)
    assignment_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("assignments.id"))
    name: Mapped[str] = mapped_column(String(200))
