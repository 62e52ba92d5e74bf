"""In-process copies of assignment settings and flows, refreshed every few seconds, so /next
reads no configuration from the database (rule 14)."""

import asyncio
import time
from dataclasses import dataclass, field
from datetime import date, datetime

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.api.visibility import visible_to
from services.queue import AssignmentQueue
from shared.calling.evaluate import ZoneClock
from shared.calling.rules import closed_days, effective_rules
from shared.contact.bars import NO_BARS, Bar, Bars, bar_of, exempt
from shared.contact.registers import RegisterState, stale_reason
from shared.customers.phones import DEFAULT_REGION
from shared.flows import FlowSpec
from shared.membership.placement import CustomerFacts, QueueFacts, queue_facts
from shared.membership.record import MembershipRecord
from shared.membership.statements import CustomerView
from shared.models import Assignment, Flow, Register, Segment, Tenant


@dataclass(frozen=True, slots=True)
class CallingHours:
    """What a claim needs of the calling rules at one instant (engine.claim's arguments)."""

    open_time_zones: list[str] | None
    openings: dict[str, int]
    hold_followups: bool


@dataclass(frozen=True, slots=True)
class AssignmentConfig:
    assignment: Assignment
    flow: FlowSpec
    time_zones: tuple[str, ...]
    segment_ids: frozenset[int]
    # The tenant's region: the country of customers without one (queue zones).
    region: str = DEFAULT_REGION
    # The tenant's closed days (calling rules).
    closed_days: frozenset[date] = frozenset()
    # The tenant's do-not-call registers: one too old stops dialling (rule 34).
    registers: tuple[RegisterState, ...] = ()
    # The calling rules' verdict per zone, kept until it changes; None: any time.
    calling: ZoneClock | None = field(init=False)

    def __post_init__(self) -> None:
        rules = effective_rules(self.assignment)
        calling = None if rules is None else ZoneClock(rules, self.closed_days)
        object.__setattr__(self, "calling", calling)

    @property
    def id(self) -> int:
        return self.assignment.id

    @property
    def tenant_id(self) -> int:
        return self.assignment.tenant_id

    def visible_to(self, user_id: int, now: datetime) -> bool:
        return visible_to(self.assignment, user_id, now)

    def facts(
        self,
        membership: MembershipRecord,
        customer: CustomerFacts,
        *,
        bars: Bars = NO_BARS,
    ) -> QueueFacts:
        """Where the customer waits in this assignment's queue (shared.membership.placement)."""
        return queue_facts(
            membership,
            customer,
            self.assignment,
            self.flow,
            bars=bars,
            default_country=self.region,
        )

    def stopped(self, now: datetime) -> str | None:
        """Why no one may be dialled now (a stale register), or None."""
        return stale_reason(self.registers, now.date()) if self.registers else None

    def bar(self, customer: CustomerView) -> Bar | None:
        """Why this customer must not be called, from what the card read brought along."""
        a = self.assignment
        return bar_of(
            customer.phones,
            customer.bars,
            exempt=exempt(customer.custom, a.register_exempt_field),
            consent_required=a.consent_required,
            consent=customer.phone_consent,
        )

    def calling_hours(self, now: datetime) -> CallingHours:
        """What a claim needs of the calling rules now (engine.claim's arguments)."""
        if self.calling is None:
            return CallingHours(None, {}, hold_followups=False)
        open_zones, openings = self.calling.split(self.time_zones, now)
        hold = not self.assignment.callbacks_break_rules
        return CallingHours(open_zones, openings, hold_followups=hold)


class AssignmentCache:
    def __init__(self, *, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[int, tuple[float, AssignmentConfig]] = {}
        # One reload per assignment at a time: when an entry expires under load, the requests
        # in flight wait for that one reload instead of each reading the database.
        self._locks: dict[int, asyncio.Lock] = {}

    def forget(self, assignment_id: int) -> None:
        self._entries.pop(assignment_id, None)

    def forget_tenant(self, tenant_id: int) -> None:
        """Every assignment of the tenant: its registers changed."""
        for assignment_id, (_, config) in list(self._entries.items()):
            if config.tenant_id == tenant_id:
                self._entries.pop(assignment_id, None)

    async def get(
        self,
        assignment_id: int,
        *,
        tenant_id: int,
        sessionmaker: async_sessionmaker[AsyncSession],
        redis: Redis,
    ) -> AssignmentConfig | None:
        entry = self._entries.get(assignment_id)
        if entry is None or entry[0] < time.monotonic():
            lock = self._locks.setdefault(assignment_id, asyncio.Lock())
            async with lock:
                entry = self._entries.get(assignment_id)
                if entry is None or entry[0] < time.monotonic():
                    config = await self._load(assignment_id, sessionmaker=sessionmaker, redis=redis)
                    if config is None:
                        return None
                    entry = (time.monotonic() + self.ttl_s, config)
                    self._entries[assignment_id] = entry
        config = entry[1]
        return config if config.tenant_id == tenant_id else None

    async def _load(
        self,
        assignment_id: int,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        redis: Redis,
    ) -> AssignmentConfig | None:
        async with sessionmaker() as session:
            assignment = await session.get(Assignment, assignment_id)
            if assignment is None:
                return None
            flow = await session.get(Flow, assignment.flow_id)
            assert flow is not None  # foreign key
            spec = FlowSpec.model_validate({"states": flow.states, "outcomes": flow.outcomes})
            segment_ids = frozenset(
                await session.scalars(
                    select(Segment.id).where(Segment.assignment_id == assignment_id)
                )
            )
            tenant = await session.get(Tenant, assignment.tenant_id)
            assert tenant is not None  # foreign key
            registers = tuple(
                RegisterState(r.name, r.extract_date, r.max_age_days)
                for r in await session.scalars(
                    select(Register).where(Register.tenant_id == assignment.tenant_id)
                )
            )
        zones = await AssignmentQueue(redis, assignment_id).time_zones()
        closed = frozenset(closed_days(tenant.closed_days))
        return AssignmentConfig(
            assignment, spec, zones, segment_ids, tenant.region, closed, registers
        )
