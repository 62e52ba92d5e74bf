from datetime import datetime

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base


class HeldLease(Base):
    """A lease as Redis held it when the worker last copied them (decision 030).

    Redis holds the leases (the hot path writes nowhere else); the worker copies them here
    about every second, behind the hot path, so that a rebuild after Redis lost them gives
    every agent back the customer on its screen. `version` is the membership's version when
    the lease was first copied: a membership written since (the holder's outcome) is not
    leased again.
    """

    __tablename__ = "held_leases"
    __table_args__ = (Index("ix_held_leases_assignment", "assignment_id"),)

    customer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    token: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    version: Mapped[int]
