"""The holder's write in as few database round trips as the database allows.

An attempt or outcome changes one membership at the version the agent was handed and appends
one event. On PostgreSQL that is one statement, atomic on its own, sent outside any explicit
transaction (no BEGIN, no COMMIT):

    WITH m AS (UPDATE memberships SET ... WHERE id = :id AND version = :version RETURNING id)
    INSERT INTO events (...) SELECT ... FROM m
    RETURNING id, (SELECT count(*) FROM blocked_phones WHERE ... phone IN (:p1, :p2, :p3))

No row back means someone else wrote first: nothing was written. The blocked count rides
along so placing the customer afterwards needs no look-up of its own (rule 12). SQLite cannot
put an UPDATE in a WITH, so there the same happens as three statements in one transaction.
Products and a booked meeting (rule 24), when given, join the same transaction.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    Insert,
    Table,
    Update,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.api.work.cards import MembershipView
from shared.directdb import DirectPool, DirectStatement
from shared.models import BlockedPhone, Event, Meeting, Membership, Product

_memberships = cast(Table, Membership.__table__)
_events = cast(Table, Event.__table__)
_blocked = cast(Table, BlockedPhone.__table__)

# What an attempt or outcome may change on a membership; version always grows by one.
CHANGED = (
    "state",
    "state_set_by",
    "state_set_by_user_id",
    "state_set_at",
    "attempts",
    "last_attempt_at",
    "followup_at",
    "followup_kind",
    "followup_owner_id",
)
EVENT_COLUMNS = (
    "tenant_id",
    "customer_id",
    "assignment_id",
    "user_id",
    "kind",
    "code",
    "from_state",
    "to_state",
    "comment",
    "data",
    "created_at",
    "excluded_from_reports",
)
PHONE_PARAMS = ("p1", "p2", "p3")


def _versioned_update() -> Update:
    # Parameters are prefixed: a bind named like a column is reserved in UPDATE ... SET.
    return (
        update(_memberships)
        .where(
            _memberships.c.id == bindparam("m_id"),
            _memberships.c.version == bindparam("m_version"),
        )
        .values(
            {name: bindparam(f"m_{name}", type_=_memberships.c[name].type) for name in CHANGED}
            | {"version": _memberships.c.version + 1}
        )
        .returning(_memberships.c.id)
    )


def _blocked_count() -> Any:
    return (
        select(func.count())
        .select_from(_blocked)
        .where(
            _blocked.c.tenant_id == bindparam("e_tenant_id"),
            _blocked.c.phone.in_([bindparam(p) for p in PHONE_PARAMS]),
        )
        .scalar_subquery()
    )


def _event_values() -> list[Any]:
    return [bindparam(f"e_{name}", type_=_events.c[name].type) for name in EVENT_COLUMNS]


def _one_statement() -> Insert:
    changed = _versioned_update().cte("m")
    return (
        insert(_events)
        .from_select(
            list(EVENT_COLUMNS),
            select(*_event_values()).select_from(changed),
            include_defaults=False,
        )
        .returning(_events.c.id, _blocked_count())
    )


# Built once: constructing a statement per request costs more than running it.
_ONE_STATEMENT = _one_statement()
_UPDATE = _versioned_update()
_INSERT_EVENT = (
    insert(_events)
    .values({name: v for name, v in zip(EVENT_COLUMNS, _event_values(), strict=True)})
    .returning(_events.c.id)
)
_BLOCKED = select(_blocked_count())
_ONE_DIRECT = DirectStatement(_ONE_STATEMENT)


@dataclass(frozen=True, slots=True)
class Written:
    event_id: int
    blocked_phones: int  # how many of the customer's numbers are blocked


@dataclass(frozen=True, slots=True)
class EventDraft:
    """What an attempt or outcome records; stored with the membership by one statement."""

    kind: str
    code: str
    from_state: str
    to_state: str
    comment: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Extras:
    """Rows that belong to the event: products offered or sold, a meeting booked."""

    products: Sequence[Mapping[str, Any]] = ()
    meeting: Mapping[str, Any] | None = None

    def __bool__(self) -> bool:
        return bool(self.products) or self.meeting is not None


NO_EXTRAS = Extras()


def _params(
    membership: Membership | MembershipView,
    version: int,
    event: Mapping[str, Any],
    phones: Sequence[str],
) -> dict[str, Any]:
    params: dict[str, Any] = {"m_id": membership.id, "m_version": version}
    for name in CHANGED:
        params[f"m_{name}"] = getattr(membership, name)
    for name in EVENT_COLUMNS:
        params[f"e_{name}"] = event.get(name)
    params["e_excluded_from_reports"] = False
    padded = [*phones, None, None, None]
    for name, phone in zip(PHONE_PARAMS, padded, strict=False):
        params[name] = phone
    return params


async def write_versioned(
    engine: AsyncEngine,
    direct: DirectPool | None,
    membership: Membership | MembershipView,
    *,
    version: int,
    event: Mapping[str, Any],
    phones: Sequence[str],
    extras: Extras = NO_EXTRAS,
) -> Written | None:
    """Write the changed membership and its event at `version`; None if it moved on."""
    params = _params(membership, version, event, phones)
    one_statement = engine.dialect.name == "postgresql"
    if direct is not None and not extras:
        found = await direct.fetchone(_ONE_DIRECT, params)
        return None if found is None else Written(found[0], found[1])
    if one_statement and not extras:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            row = (await conn.execute(_ONE_STATEMENT, params)).one_or_none()
        return None if row is None else Written(row[0], row[1])
    async with engine.begin() as conn:
        if one_statement:
            row = (await conn.execute(_ONE_STATEMENT, params)).one_or_none()
            if row is None:
                return None
            written = Written(row[0], row[1])
        else:
            if (await conn.execute(_UPDATE, params)).one_or_none() is None:
                return None
            event_id = (await conn.execute(_INSERT_EVENT, params)).scalar_one()
            blocked = (await conn.execute(_BLOCKED, params)).scalar_one()
            written = Written(event_id, blocked)
        if extras:
            await _write_extras(conn, extras, event, written.event_id)
        return written


async def _write_extras(
    conn: AsyncConnection, extras: Extras, event: Mapping[str, Any], event_id: int
) -> None:
    owner = {
        "tenant_id": event["tenant_id"],
        "customer_id": event["customer_id"],
        "assignment_id": event["assignment_id"],
        "event_id": event_id,
        "user_id": event["user_id"],
        "created_at": event["created_at"],
    }
    if extras.products:
        rows = [owner | dict(p) for p in extras.products]
        await conn.execute(insert(cast(Table, Product.__table__)), rows)
    if extras.meeting is not None:
        await conn.execute(insert(cast(Table, Meeting.__table__)), [owner | dict(extras.meeting)])
