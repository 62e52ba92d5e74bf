from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, BigId, IdMixin, TimestampMixin


class FollowUpKind(StrEnum):
    personal = "personal"
    shared = "shared"


class Membership(IdMixin, TimestampMixin, Base):
    """A customer's place in its one active assignment (rule 6).

    `customer_id` is unique, so a customer can never be active in two assignments. `version`
    grows with every write: attempts and outcomes are written only at the version the agent
    was handed (optimistic concurrency, DESIGN section 4).
    """

    __tablename__ = "memberships"
    __table_args__ = (
        Index("ix_memberships_assignment_state", "assignment_id", "state"),
        # My Work: a user's personal follow-ups, and an assignment's follow-ups, by time.
        Index("ix_memberships_owner_followup", "followup_owner_id", "followup_at"),
        Index(
            "ix_memberships_assignment_followup", "assignment_id", "followup_kind", "followup_at"
        ),
    )

    # The tenant is the assignment's (which has its foreign key); no check of its own per row.
    tenant_id: Mapped[int] = mapped_column(BigInteger, index=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), unique=True)
    assignment_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("assignments.id"))
    segment_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("segments.id"), default=None
    )
    state: Mapped[str] = mapped_column(String(100))
    state_set_by: Mapped[str] = mapped_column(String(50), default="import")
    state_set_by_user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    state_set_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    followup_at: Mapped[datetime | None] = mapped_column(default=None)
    followup_kind: Mapped[str | None] = mapped_column(String(10), default=None)
    followup_owner_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    version: Mapped[int] = mapped_column(default=1)

    # SQLAlchemy adds "AND version = :old" to every ORM UPDATE and raises StaleDataError when
    # another writer got there first: the optimistic concurrency of DESIGN section 4.
    __mapper_args__ = {"version_id_col": version}
