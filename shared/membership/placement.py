"""What decides a customer's place in its queue, read off the database records.

The queue engine turns a `QueueFacts` into a place (services.queue.compute_placement); this
module only gathers the facts, so the engine stays free of models.
"""

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy import Select, null, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from shared.calling.zones import zone_key
from shared.contact.bars import (
    NO_BARS,
    Bars,
    any_bars,
    bar_of,
    exempt,
    listed_among,
    registered_among,
)
from shared.customers.phones import DEFAULT_REGION
from shared.flows import FlowSpec, StateKind
from shared.infra.clock import utc_now
from shared.membership.record import PLACEMENT_COLUMNS, MembershipRecord
from shared.models import (
    Assignment,
    AttemptLimitAction,
    Customer,
    Membership,
    Tenant,
)

Direction = Literal["asc", "desc"]
SortValueT = tuple[float | str | date | datetime | None, Direction]


@dataclass(frozen=True, slots=True)
class QueueFacts:
    customer_id: int
    segment_id: int | None
    time_zone: str
    state_kind: str
    followup_kind: str | None
    followup_due_ms: int | None
    followup_owner: int | None
    blocked: bool
    over_attempt_limit: bool
    stop_at_limit: bool
    cooldown_until_ms: int | None
    import_order: int
    sort_values: Sequence[SortValueT] = field(default_factory=tuple)


def to_ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


class CustomerFacts(Protocol):
    """What placement reads of a customer: a Customer, or a row of its columns."""

    @property
    def id(self) -> int: ...
    @property
    def time_zone(self) -> str | None: ...
    @property
    def country(self) -> str | None: ...
    @property
    def custom(self) -> dict[str, Any]: ...
    @property
    def phones(self) -> list[str]: ...
    @property
    def phone_consent(self) -> bool | None: ...


def queue_facts(
    membership: MembershipRecord,
    customer: CustomerFacts,
    assignment: Assignment,
    flow: FlowSpec,
    *,
    bars: Bars = NO_BARS,
    default_country: str | None = None,
) -> QueueFacts:
    """Where the customer waits: `bars` are the tenant's bars among its numbers,
    `default_country` is the tenant's region (calling rules)."""
    phones = customer.phones
    limit = assignment.attempt_limit
    cooldown_until = None
    if membership.last_attempt_at is not None and assignment.cooldown_seconds > 0:
        cooldown_until = membership.last_attempt_at + timedelta(seconds=assignment.cooldown_seconds)
    return QueueFacts(
        customer_id=customer.id,
        segment_id=membership.segment_id,
        time_zone=zone_key(
            time_zone=customer.time_zone,
            country=customer.country,
            phones=phones,
            default_time_zone=assignment.default_time_zone,
            default_country=default_country,
        ),
        state_kind=flow.kind_of(membership.state).value,
        followup_kind=membership.followup_kind,
        followup_due_ms=to_ms(membership.followup_at),
        followup_owner=membership.followup_owner_id,
        blocked=barred(assignment, customer, phones, bars),
        over_attempt_limit=limit is not None and membership.attempts >= limit,
        stop_at_limit=assignment.attempt_limit_action == AttemptLimitAction.stop,
        cooldown_until_ms=to_ms(cooldown_until),
        import_order=membership.id,
        sort_values=tuple(
            _sort_values(
                assignment.sort_keys,
                import_order=membership.id,
                attempts=membership.attempts,
                last_attempt_at=membership.last_attempt_at,
                custom=customer.custom,
            )
        ),
    )


def barred(
    assignment: Assignment, customer: CustomerFacts, phones: Sequence[str], bars: Bars
) -> bool:
    """Must the customer wait, barred by the blocklist, a register or missing consent?"""
    return (
        bar_of(
            phones,
            bars,
            exempt=exempt(customer.custom, assignment.register_exempt_field),
            consent_required=assignment.consent_required,
            consent=customer.phone_consent,
        )
        is not None
    )


def _sort_values(
    sort_keys: Sequence[dict[str, Any]],
    *,
    import_order: int,
    attempts: int,
    last_attempt_at: datetime | None,
    custom: dict[str, Any],
) -> list[SortValueT]:
    values: list[SortValueT] = []
    for spec in sort_keys:
        key = str(spec["key"])
        direction: Direction = "desc" if spec.get("direction") == "desc" else "asc"
        value: float | str | date | datetime | None
        if key == "attempts":
            value = float(attempts)
        elif key == "last_attempt_at":
            # Never attempted counts as longest ago.
            value = float(last_attempt_at.timestamp()) if last_attempt_at else 0.0
        elif key == "import_order":
            value = float(import_order)
        else:
            value = _custom_value(custom.get(key.removeprefix("custom:")))
        values.append((value, direction))
    return values


def _custom_value(raw: Any) -> float | str | date | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, int | float):
        return float(raw)
    return _text_value(str(raw))


@functools.lru_cache(maxsize=4096)
def _text_value(text: str) -> str | date:
    """A date if the text is one. Cached: customers share values (a plan, a region), and a
    failed parse raises, which costs more than the rest of a rebuild's work per customer."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        return text


async def load_queue_facts(
    session: AsyncSession,
    assignment: Assignment,
    flow: FlowSpec,
    *,
    customer_ids: Sequence[int] | None = None,
    batch_size: int = 5000,
) -> AsyncIterator[list[QueueFacts]]:
    """The facts of an assignment's memberships (all, or the given customers), in batches.

    Streams by membership id so a million memberships never sit in memory at once.
    """
    facts_of = _FactsBuilder(assignment, flow, await _region(session, assignment))
    async for rows, bars in _queue_rows(
        session, assignment, customer_ids=customer_ids, batch_size=batch_size
    ):
        yield facts_of.batch(rows, bars)


# services.queue.placement.PlainFacts (shared/ imports nothing from services/): a customer
# in a free state without a follow-up or blocked phones, in an assignment without sort keys.
# (customer id, import order, segment id, time zone, over the attempt limit, cooldown end ms).
PlainFacts = tuple[int, int, int | None, str, bool, int | None]


@dataclass(frozen=True, slots=True)
class FactsBatch:
    """One batch of an assignment's memberships: the common case in plain values (placed by
    services.queue.placement.plain_entries), every other one as QueueFacts."""

    plain: list[PlainFacts]
    facts: list[QueueFacts]
    stop_at_limit: bool


async def load_queue_batches(
    session: AsyncSession,
    assignment: Assignment,
    flow: FlowSpec,
    *,
    customer_ids: Sequence[int] | None = None,
    batch_size: int = 5000,
) -> AsyncIterator[FactsBatch]:
    """load_queue_facts for a rebuild: the same memberships, most of them without building
    an object each."""
    facts_of = _FactsBuilder(assignment, flow, await _region(session, assignment))
    async for rows, bars in _queue_rows(
        session, assignment, customer_ids=customer_ids, batch_size=batch_size
    ):
        yield facts_of.split(rows, bars)


async def _region(session: AsyncSession, assignment: Assignment) -> str:
    """The tenant's region: the country of customers who have none and no phone number."""
    region = await session.scalar(select(Tenant.region).where(Tenant.id == assignment.tenant_id))
    return region or DEFAULT_REGION


Rows = Sequence[Sequence[Any]]


async def _queue_rows(
    session: AsyncSession,
    assignment: Assignment,
    *,
    customer_ids: Sequence[int] | None,
    batch_size: int,
) -> AsyncIterator[tuple[Rows, Bars]]:
    """Membership and customer columns (the layout _FactsBuilder reads) in batches, each with
    the tenant's bars among its phones."""
    uses_custom = assignment.register_exempt_field is not None or any(
        str(k["key"]).startswith("custom:") for k in assignment.sort_keys
    )
    # Most tenants bar no number: when there are none, skip the look-up per batch.
    any_blocked = await session.scalar(any_bars(assignment.tenant_id))
    connection = await session.connection()
    columns = (
        *(getattr(Membership, name) for name in PLACEMENT_COLUMNS),
        Customer.id,
        Customer.time_zone,
        Customer.custom if uses_custom else null(),
        # Phones only decide whether every number is blocked: unread when none can be.
        *(
            (Customer.phone_1, Customer.phone_2, Customer.phone_3)
            if any_blocked is not None
            else (null(),) * 3
        ),
        # Where the customer is (its queue zone): its country, else its first number's.
        Customer.country,
        Customer.phone_1,
        Customer.phone_consent,
    )
    base = (
        select(*columns)
        .join(Customer, Customer.id == Membership.customer_id)
        .where(Membership.assignment_id == assignment.id)
        # Anonymised customers keep their membership for reports but are never served.
        .where(Customer.anonymised_at.is_(None))
    )
    if customer_ids is None:
        batches = _keyset_rows(connection, base, batch_size)
    else:
        # The given customers, a batch at a time, each found by its customer id.
        batches = (
            await fetch_rows(connection, base.where(Membership.customer_id.in_(list(part))))
            for part in _parts(customer_ids, batch_size)
        )
    async for rows in batches:
        if not rows:
            continue
        bars = NO_BARS
        if any_blocked is not None:
            phones: set[str] = {str(p) for row in rows for p in row[11:14] if p}
            bars = await _bars_among(connection, assignment.tenant_id, phones)
        yield rows, bars


def _parts(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _keyset_rows(
    connection: AsyncConnection, base: Select[Any], batch_size: int
) -> AsyncIterator[Rows]:
    """Every membership, by id: a keyset walk, never an offset. The next batch is asked for
    before this one is handed out, so PostgreSQL reads it while the caller places this one."""
    query = base.order_by(Membership.id).limit(batch_size)
    if connection.dialect.name != "postgresql":
        # No read ahead: only psycopg's connection queues a second statement safely.
        last_id = 0
        while rows := await fetch_rows(connection, query.where(Membership.id > last_id)):
            yield rows
            last_id = rows[-1][0]
        return
    upcoming = asyncio.create_task(fetch_rows(connection, query.where(Membership.id > 0)))
    try:
        while rows := await upcoming:
            upcoming = asyncio.create_task(
                fetch_rows(connection, query.where(Membership.id > rows[-1][0]))
            )
            # Let the task send its query before the caller's CPU work holds the loop.
            await asyncio.sleep(0)
            yield rows
    finally:
        # A query in flight is finished, not cancelled: the connection stays usable.
        if not upcoming.done():
            with contextlib.suppress(Exception):
                await upcoming


async def fetch_rows(connection: AsyncConnection, query: Select[Any]) -> Rows:
    """The rows of a Core query as plain tuples, without SQLAlchemy's result processing.

    On PostgreSQL the query runs on the psycopg connection underneath: psycopg builds the
    tuples in C, several times cheaper per row than a Result (decisive for a rebuild's
    million rows). Columns come back as psycopg types them (aware datetimes, JSON as dicts),
    which for the columns read here is what the Result gives too. Elsewhere (SQLite): the
    plain Core path.
    """
    if connection.dialect.name != "postgresql":
        return (await connection.execute(query)).all()
    compiled = query.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    async with driver.cursor() as cursor:
        await cursor.execute(str(compiled), compiled.params)
        rows: Rows = await cursor.fetchall()
        return rows


class _FactsBuilder:
    """queue_facts for many rows of one assignment (the columns _queue_rows reads): what
    depends only on the assignment and the flow is worked out once, not per customer."""

    def __init__(self, assignment: Assignment, flow: FlowSpec, region: str) -> None:
        self.assignment = assignment
        self.region = region
        self.flow = flow
        self.kinds: dict[str, str] = {}
        self.limit = assignment.attempt_limit
        self.cooldown = timedelta(seconds=assignment.cooldown_seconds)
        self.stop_at_limit = assignment.attempt_limit_action == AttemptLimitAction.stop
        self.default_tz = assignment.default_time_zone
        # Read once: an ORM attribute costs more per row than a plain one.
        self.sort_keys = list(assignment.sort_keys)
        self.free_states = {s.key for s in flow.states if s.kind == StateKind.free}
        self.exempt_field = assignment.register_exempt_field
        self.consent_required = assignment.consent_required

    def zone(self, row: Sequence[Any]) -> str:
        """The customer's queue zone (shared.calling.zones) from the columns _queue_rows reads."""
        return zone_key(
            time_zone=row[9],
            country=row[14],
            phones=(row[15],),
            default_time_zone=self.default_tz,
            default_country=self.region,
        )

    def kind(self, state: str) -> str:
        kind = self.kinds.get(state)
        if kind is None:
            kind = self.kinds[state] = self.flow.kind_of(state).value
        return kind

    def batch(self, rows: Rows, bars: Bars) -> list[QueueFacts]:
        return [self.facts(row, bars) for row in rows]

    def barred(self, row: Sequence[Any], bars: Bars) -> bool:
        """queue_facts' `barred` on the columns _queue_rows reads."""
        if not bars and not self.consent_required:
            return False
        return (
            bar_of(
                [p for p in row[11:14] if p],
                bars,
                exempt=exempt(row[10], self.exempt_field),
                consent_required=self.consent_required,
                consent=row[16],
            )
            is not None
        )

    def facts(self, row: Sequence[Any], bars: Bars) -> QueueFacts:
        m_id, segment_id, state, attempts, last_at, followup_at, followup_kind, owner = row[:8]
        sort_values: tuple[SortValueT, ...] = ()
        if self.sort_keys:
            sort_values = tuple(
                _sort_values(
                    self.sort_keys,
                    import_order=m_id,
                    attempts=attempts,
                    last_attempt_at=last_at,
                    custom=row[10] or {},
                )
            )
        return QueueFacts(
            customer_id=row[8],
            segment_id=segment_id,
            time_zone=self.zone(row),
            state_kind=self.kind(state),
            followup_kind=followup_kind,
            followup_due_ms=to_ms(followup_at),
            followup_owner=owner,
            blocked=self.barred(row, bars),
            over_attempt_limit=self.limit is not None and attempts >= self.limit,
            stop_at_limit=self.stop_at_limit,
            cooldown_until_ms=(
                to_ms(last_at + self.cooldown) if last_at is not None and self.cooldown else None
            ),
            import_order=m_id,
            sort_values=sort_values,
        )

    def split(self, rows: Rows, bars: Bars) -> FactsBatch:
        """The rows of the common case as PlainFacts, the others as QueueFacts."""
        plain: list[PlainFacts] = []
        others: list[QueueFacts] = []
        if self.sort_keys:
            # Every customer needs its sort values: no common case here.
            return FactsBatch(plain, self.batch(rows, bars), self.stop_at_limit)
        limit, cooldown = self.limit, self.cooldown
        free = self.free_states
        add_plain, add_other = plain.append, others.append
        for row in rows:
            m_id, segment_id, state, attempts, last_at, followup_at = row[:6]
            if followup_at is not None or state not in free or self.barred(row, bars):
                add_other(self.facts(row, bars))
                continue
            add_plain(
                (
                    row[8],
                    m_id,
                    segment_id,
                    self.zone(row),
                    limit is not None and attempts >= limit,
                    to_ms(last_at + cooldown) if last_at is not None and cooldown else None,
                )
            )
        return FactsBatch(plain, others, self.stop_at_limit)


async def _bars_among(connection: AsyncConnection, tenant_id: int, phones: Collection[str]) -> Bars:
    """bars_among on the connection the rows come from."""
    if not phones:
        return NO_BARS
    listed = await fetch_rows(connection, listed_among(tenant_id, phones, now=utc_now()))
    registered = await fetch_rows(connection, registered_among(tenant_id, phones))
    return Bars({row[0] for row in listed}, {row[0] for row in registered})


async def bars_among(session: AsyncSession, tenant_id: int, phones: Collection[str]) -> Bars:
    """Which of these numbers the tenant bars, by source."""
    return await _bars_among(await session.connection(), tenant_id, phones)
