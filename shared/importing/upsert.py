"""Writing a batch of validated rows: customers upserted by (tenant, external id), memberships
created in the assignment, one "imported" event per new membership (rules 3 and 6).

A handful of bulk statements per batch whatever its size: one read of the batch's existing
customers, one INSERT ... ON CONFLICT DO UPDATE of the new and changed customers, one insert
of the new memberships with their events. PostgreSQL gets them through COPY into a staging
table (shared.importing.staging), SQLite as executemany (shared.importing.statements). Never
commits: the caller owns the transaction.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.customers.phones import DEFAULT_REGION
from shared.importing import staging, statements
from shared.importing.folding import search_name
from shared.importing.statements import customers
from shared.importing.validation import (
    CUSTOMER_COLUMNS,
    PHONE_COLUMNS,
    CustomerRow,
    FieldRules,
    RowError,
)

ACTIVE_ELSEWHERE = "active in another assignment"
# The name of "no segment": a row naming it moves an existing member out of its segment.
UNSEGMENTED = "unsegmented"

# What a new customer has where its row gives nothing (the columns that are not nullable
# default to "").
_DEFAULTS: dict[str, Any] = {name: None for name in CUSTOMER_COLUMNS} | {
    "first_name": "",
    "last_name": "",
    "account_type": "",
    "city": "",
}


@dataclass(frozen=True, slots=True)
class ImportTarget:
    """Where rows go: the tenant, the assignment and its flow's initial state."""

    tenant_id: int
    assignment_id: int
    initial_state: str
    rules: FieldRules
    user_id: int | None = None
    import_id: int | None = None
    # The tenant's region: national numbers of rows without a country are read as its own.
    region: str = DEFAULT_REGION


@dataclass(frozen=True, slots=True)
class NewMember:
    """A customer the batch created and made a member: all its queue place depends on, known
    without reading it back (free of attempts, follow-ups and history)."""

    membership_id: int
    customer_id: int
    segment_id: int | None
    time_zone: str | None
    phones: tuple[str, ...]
    custom: dict[str, Any]
    country: str | None = None


@dataclass(slots=True)
class BatchResult:
    customer_ids: list[int] = field(default_factory=list)  # accepted, all in the assignment now
    errors: list[RowError] = field(default_factory=list)
    accepted_rows: int = 0
    created_customers: int = 0
    new_memberships: int = 0
    # Of customer_ids, those whose place is known from the batch (PostgreSQL path only).
    new_members: list[NewMember] = field(default_factory=list)


@dataclass(slots=True)
class _Current:
    """A customer as the batch sees it: as stored, then with the batch's rows applied."""

    customer_id: int | None
    values: dict[str, Any]
    stored: dict[str, Any] | None
    membership_assignment: int | None = None
    membership_segment: int | None = None
    membership_id: int | None = None
    segment: str | None = None
    lines: list[int] = field(default_factory=list)


@dataclass(slots=True)
class PreparedBatch:
    """A batch checked and ready to write (Upserter.prepare, then Upserter.write)."""

    now: datetime
    accepted: dict[str, _Current]  # by external id, in file order
    result: BatchResult  # the rows rejected so far
    staged: list[tuple[Any, ...]] | None = None  # PostgreSQL: the rows to COPY

    @property
    def external_ids(self) -> set[str]:
        return set(self.accepted)


def _unsegmented(name: str) -> bool:
    return name.lower() == UNSEGMENTED


class Upserter:
    """Writes batches into one assignment; remembers segments and unique values between
    batches, so later rows of a file are checked against earlier ones."""

    def __init__(self, target: ImportTarget) -> None:
        self.target = target
        self.segment_ids: dict[str, int] = {}
        # Unique-if-filled custom fields: value -> external id holding it, and back.
        self._holders: dict[str, dict[str, str]] | None = None
        self._held: dict[str, dict[str, str]] = {}

    async def _load_unique_values(self, session: AsyncSession) -> dict[str, dict[str, str]]:
        """Every filled value of the tenant's unique fields, read once per import."""
        if self._holders is not None:
            return self._holders
        holders: dict[str, dict[str, str]] = {}
        for key in self.target.rules.unique:
            value = customers.c.custom[key].as_string()
            result = await session.stream(
                select(customers.c.external_id, value).where(
                    customers.c.tenant_id == self.target.tenant_id, value.is_not(None)
                ),
                execution_options={"yield_per": 10_000},
            )
            by_value: dict[str, str] = {}
            by_customer: dict[str, str] = {}
            async for external_id, raw in result:
                if raw is None or raw == "":
                    continue
                by_value[str(raw)] = external_id
                by_customer[external_id] = str(raw)
            holders[key] = by_value
            self._held[key] = by_customer
        self._holders = holders
        return holders

    async def upsert(self, session: AsyncSession, rows: Sequence[CustomerRow]) -> BatchResult:
        """Prepares and writes one batch in `session`'s transaction."""
        return await self.write(session, await self.prepare(session, rows))

    async def prepare(self, session: AsyncSession, rows: Sequence[CustomerRow]) -> PreparedBatch:
        """Everything of a batch but its writes: the stored customers read, the rows checked
        and folded, the PostgreSQL staging rows built. May run in another transaction than
        `write` (an import prepares the next batch while this one is written); only
        missing segments are created here. Batches are prepared in file order, and a batch
        is prepared after every earlier batch that shares one of its external ids has been
        committed (the runner sees to it), so what is read is what the file made so far."""
        batch = PreparedBatch(datetime.now(UTC), {}, BatchResult())
        if not rows:
            return batch
        target = self.target
        current = await self._current(session, {r.external_id for r in rows})
        unique = await self._load_unique_values(session) if target.rules.unique else {}
        required = target.rules.required
        accepted = batch.accepted
        result = batch.result

        for row in rows:
            cur = current.get(row.external_id)
            if cur is None:
                cur = _Current(None, dict(_DEFAULTS, custom={}), None)
                current[row.external_id] = cur
            reasons = self._check(row, cur, required, unique)
            if reasons:
                result.errors.append(RowError(row.line, row.external_id, "; ".join(reasons)))
                continue
            for key, holders in unique.items():
                if key in row.custom:
                    self._hold(key, str(row.custom[key]), row.external_id, holders)
            cur.values.update(row.fields)
            if row.custom:
                cur.values["custom"] = {**cur.values["custom"], **row.custom}
            if row.segment is not None:
                cur.segment = row.segment
            cur.lines.append(row.line)
            accepted[row.external_id] = cur

        if not accepted:
            return batch
        await self._ensure_segments(
            session,
            {c.segment for c in accepted.values() if c.segment and not _unsegmented(c.segment)},
        )
        if statements.is_postgresql(session):
            batch.staged = self._staged_rows(accepted)
        return batch

    async def write(self, session: AsyncSession, batch: PreparedBatch) -> BatchResult:
        """Writes a prepared batch in `session`'s transaction (not committed)."""
        accepted, result = batch.accepted, batch.result
        if not accepted:
            return result
        await self._move_members(session, accepted)
        if batch.staged is not None:
            await self._write_staged(session, batch.staged, accepted, result, batch.now)
        else:
            result.created_customers = await self._write_customers(session, accepted, batch.now)
            await self._write_memberships(session, accepted, result, batch.now)
        result.customer_ids = [c.customer_id for c in accepted.values() if c.customer_id]
        result.accepted_rows = sum(len(c.lines) for c in accepted.values())
        result.errors.sort(key=lambda e: e.line or 0)
        return result

    def _check(
        self,
        row: CustomerRow,
        cur: _Current,
        required: list[str],
        unique: dict[str, dict[str, str]],
    ) -> list[str]:
        if cur.membership_assignment not in (None, self.target.assignment_id):
            return [ACTIVE_ELSEWHERE]
        reasons = []
        for key in required:
            if row.custom.get(key) is None and cur.values["custom"].get(key) in (None, ""):
                reasons.append(f"custom field '{key}' is required")
        for key, holders in unique.items():
            if key not in row.custom:
                continue
            holder = holders.get(str(row.custom[key]))
            if holder is not None and holder != row.external_id:
                reasons.append(
                    f"custom field '{key}' must be unique: '{row.custom[key]}' "
                    f"is already used by customer '{holder}'"
                )
        return reasons

    def _hold(self, key: str, value: str, external_id: str, holders: dict[str, str]) -> None:
        held = self._held.setdefault(key, {})
        previous = held.get(external_id)
        if previous is not None and previous != value and holders.get(previous) == external_id:
            del holders[previous]
        holders[value] = external_id
        held[external_id] = value

    async def _current(self, session: AsyncSession, external_ids: set[str]) -> dict[str, _Current]:
        """The batch's existing customers and their memberships, in one read."""
        found: dict[str, _Current] = {}
        width = len(CUSTOMER_COLUMNS)
        read = (
            staging.existing_customers
            if statements.is_postgresql(session)
            else statements.existing_customers
        )
        for record in await read(session, self.target.tenant_id, external_ids):
            values = dict(zip(CUSTOMER_COLUMNS, record[2 : 2 + width], strict=True))
            values["custom"] = dict(record.custom or {})
            found[record.external_id] = _Current(
                customer_id=record.id,
                values=values,
                stored={**values, "custom": dict(values["custom"])},
                membership_assignment=record.assignment_id,
                membership_segment=record.segment_id,
                membership_id=record.membership_id,
            )
        return found

    def _segment_id(self, name: str | None) -> int | None:
        if name is None or _unsegmented(name):
            return None
        return self.segment_ids[name]

    async def _ensure_segments(self, session: AsyncSession, names: set[str]) -> None:
        missing = names - self.segment_ids.keys()
        if not missing:
            return
        target = self.target
        self.segment_ids.update(
            await statements.segment_ids(session, target.assignment_id, missing)
        )
        create = missing - self.segment_ids.keys()
        if create:
            await statements.create_segments(
                session, target.tenant_id, target.assignment_id, create, datetime.now(UTC)
            )
            self.segment_ids.update(
                await statements.segment_ids(session, target.assignment_id, create)
            )

    async def _move_members(self, session: AsyncSession, accepted: dict[str, _Current]) -> None:
        """Members of this assignment whose rows name another segment move there."""
        moves = [
            (cur.membership_id, self._segment_id(cur.segment))
            for cur in accepted.values()
            if cur.membership_id is not None
            and cur.segment is not None
            and self._segment_id(cur.segment) != cur.membership_segment
        ]
        if moves:
            await statements.move_to_segments(session, moves)

    def _staged_rows(self, accepted: dict[str, _Current]) -> list[tuple[Any, ...]]:
        """PostgreSQL: the batch's changed and joining customers, as staged (STAGED_COLUMNS)."""
        staged = []
        for n, (external_id, cur) in enumerate(accepted.items()):
            dirty = cur.customer_id is None or cur.values != cur.stored
            joins = cur.membership_id is None
            if not (dirty or joins):
                continue
            values = cur.values
            custom = values["custom"]
            staged.append(
                (
                    n,
                    external_id,
                    cur.customer_id,
                    dirty,
                    joins,
                    self._segment_id(cur.segment),
                    *[values[name] for name in CUSTOMER_COLUMNS],
                    search_name(values["first_name"], values["last_name"]),
                    json.dumps(custom) if custom else "{}",
                )
            )
        return staged

    async def _write_staged(
        self,
        session: AsyncSession,
        staged: list[tuple[Any, ...]],
        accepted: dict[str, _Current],
        result: BatchResult,
        now: datetime,
    ) -> None:
        """PostgreSQL: the staged customers written at once."""
        target = self.target
        if not staged:
            return
        written, joined = await staging.write_batch(
            session,
            staged,
            tenant_id=target.tenant_id,
            assignment_id=target.assignment_id,
            state=target.initial_state,
            user_id=target.user_id,
            import_id=target.import_id,
            now=now,
        )
        for customer_id, external_id in written:
            cur = accepted[external_id]
            if cur.customer_id is None:
                result.created_customers += 1
            cur.customer_id = customer_id
        result.new_memberships = len(joined)
        membership_of = {j.customer_id: j.membership_id for j in joined}
        joining = [cur for cur in accepted.values() if cur.membership_id is None]
        if len(joined) < len(joining):
            await self._lost_races(session, accepted, joining, set(membership_of), result)
        for cur in joining:
            membership_id = membership_of.get(cast(int, cur.customer_id))
            if membership_id is not None and cur.stored is None:
                values = cur.values
                result.new_members.append(
                    NewMember(
                        membership_id,
                        cast(int, cur.customer_id),
                        self._segment_id(cur.segment),
                        values["time_zone"],
                        tuple(values[name] for name in PHONE_COLUMNS if values[name]),
                        values["custom"],
                        values.get("country"),
                    )
                )

    async def _write_customers(
        self, session: AsyncSession, accepted: dict[str, _Current], now: datetime
    ) -> int:
        """Inserts new customers and updates changed ones; returns how many were new."""
        dirty = [
            (external_id, cur)
            for external_id, cur in accepted.items()
            if cur.customer_id is None or cur.values != cur.stored
        ]
        if not dirty:
            return 0
        created = sum(1 for _, cur in dirty if cur.customer_id is None)
        written = await statements.upsert_customers(
            session,
            self.target.tenant_id,
            [
                {
                    "external_id": external_id,
                    **cur.values,
                    # Customer search reads the folded name (rule 4); Core writes keep it.
                    "search_name": search_name(cur.values["first_name"], cur.values["last_name"]),
                }
                for external_id, cur in dirty
            ],
            now,
        )
        for customer_id, external_id in written:
            accepted[external_id].customer_id = customer_id
        return created

    async def _write_memberships(
        self,
        session: AsyncSession,
        accepted: dict[str, _Current],
        result: BatchResult,
        now: datetime,
    ) -> None:
        target = self.target
        joining = [
            cur for cur in accepted.values() if cur.membership_id is None and cur.customer_id
        ]
        if not joining:
            return
        joined = await statements.insert_memberships(
            session,
            tenant_id=target.tenant_id,
            assignment_id=target.assignment_id,
            state=target.initial_state,
            user_id=target.user_id,
            joining=[(cast(int, c.customer_id), self._segment_id(c.segment)) for c in joining],
            now=now,
        )
        if len(joined) < len(joining):
            await self._lost_races(session, accepted, joining, joined, result)
        result.new_memberships = len(joined)
        if not joined:
            return
        await statements.insert_imported_events(
            session,
            tenant_id=target.tenant_id,
            assignment_id=target.assignment_id,
            user_id=target.user_id,
            to_state=target.initial_state,
            joined=[
                (
                    cur.customer_id,
                    {"import_id": target.import_id, "segment_id": self._segment_id(cur.segment)},
                )
                for cur in joining
                if cur.customer_id in joined
            ],
            now=now,
        )

    async def _lost_races(
        self,
        session: AsyncSession,
        accepted: dict[str, _Current],
        joining: list[_Current],
        joined: set[int],
        result: BatchResult,
    ) -> None:
        """Customers that joined an assignment while this batch ran (another import or a move):
        in this one they stay; in another one their rows are rejected."""
        late = {cast(int, cur.customer_id) for cur in joining if cur.customer_id not in joined}
        elsewhere = await statements.memberships_elsewhere(session, late, self.target.assignment_id)
        for external_id, cur in list(accepted.items()):
            if cur.customer_id in elsewhere:
                del accepted[external_id]
                result.errors.extend(
                    RowError(line, external_id, ACTIVE_ELSEWHERE) for line in cur.lines
                )
