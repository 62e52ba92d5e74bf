"""Agents' states and dials (rules 35-36, decision 035).

The truth about an agent's state is its row in `agent_states`: every change is one conditional
UPDATE, so two dialers can never bridge two calls to one agent. Redis holds a copy per
assignment for the pacing (services/queue/agents.py). `agent_state_changes` is the history,
for occupancy. `dials` holds each reported dial once, by the dialer's dial id.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, IdMixin, utcnow


class AgentState(StrEnum):
    signed_off = "signed_off"
    ready = "ready"
    reserved = "reserved"  # picked by the dialer for a call being connected
    on_call = "on_call"
    wrap_up = "wrap_up"
    paused = "paused"


class DialResult(StrEnum):
    answered = "answered"  # and bridged to an agent
    no_answer = "no_answer"
    busy = "busy"
    machine = "machine"  # answering machine
    failed = "failed"
    invalid_number = "invalid_number"
    abandoned = "abandoned"  # answered, and no agent was free
    inbound = "inbound"  # the customer called in (not reported by a dialer)


class AgentStateRow(Base):
    """One agent's state now; an agent without a row is signed off."""

    __tablename__ = "agent_states"
    __table_args__ = (Index("ix_agent_states_assignment_state", "assignment_id", "state"),)

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigInteger, index=True)
    state: Mapped[str] = mapped_column(String(20))
    # The assignment the agent works (takes calls for) while not signed off.
    assignment_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    reason: Mapped[str] = mapped_column(String(200), default="")
    # The call the agent holds (on call, wrap-up): at most one (rule 35).
    customer_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    dial_id: Mapped[str | None] = mapped_column(String(100), default=None)
    since: Mapped[datetime] = mapped_column(default=utcnow)
    # Grows with every change: the Redis copy keeps only the newest (services/queue/agents.py).
    version: Mapped[int] = mapped_column(default=1)


class AgentStateChange(IdMixin, Base):
    """The history of agents' states: occupancy is the time between consecutive rows."""

    __tablename__ = "agent_state_changes"
    __table_args__ = (Index("ix_agent_state_changes_user_at", "user_id", "at"),)

    tenant_id: Mapped[int] = mapped_column(BigInteger, index=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(20))
    assignment_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    reason: Mapped[str] = mapped_column(String(200), default="")
    # Who changed it: the agent, a dialer's machine user, or None for the system.
    changed_by: Mapped[int | None] = mapped_column(BigInteger, default=None)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Dial(IdMixin, Base):
    """A dial whose result was reported, once per dial id (results are idempotent by it)."""

    __tablename__ = "dials"
    __table_args__ = (
        UniqueConstraint("tenant_id", "dial_id"),
        Index("ix_dials_assignment_reported", "assignment_id", "reported_at"),
        Index("ix_dials_customer_reported", "customer_id", "reported_at"),
    )

    tenant_id: Mapped[int] = mapped_column(BigInteger)
    dial_id: Mapped[str] = mapped_column(String(100))
    assignment_id: Mapped[int] = mapped_column(BigInteger)
    customer_id: Mapped[int] = mapped_column(BigInteger)
    dialer_user_id: Mapped[int] = mapped_column(BigInteger)
    result: Mapped[str] = mapped_column(String(20))
    agent_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    event_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    ring_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the bridged call ended (the dialer's hang-up): talk time is ended_at - reported_at.
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
