from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, BigId, IdMixin, TimestampMixin

# The state of a membership while it waits in someone's "to correct" list (rule 26a). The '@'
# keeps it outside every flow (flow state keys are [a-z0-9_]), so /next never serves it.
CORRECTION_STATE = "@correction"


class Correction(IdMixin, TimestampMixin, Base):
    """A customer sent to a chosen user for correction, with a reason and allowed outcomes."""

    __tablename__ = "corrections"
    __table_args__ = (Index("ix_corrections_owner_open", "owner_user_id", "resolved_at"),)

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"), index=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    assignment_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("assignments.id"))
    owner_user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"))
    requested_by_user_id: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(2000), default="")
    allowed_outcomes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Where the customer stood before; kept for the history and for reports.
    previous_state: Mapped[str] = mapped_column(String(100))
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_event_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
