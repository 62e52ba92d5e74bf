"""The bulk statements of an import batch, one per step whatever the batch size.

PostgreSQL gets each column as one array parameter, unnested server-side: a statement with a
dozen parameters instead of ten thousand, which the driver would otherwise parse and bind one
by one. SQLite (the embedded default) gets plain executemany, which its driver runs in C.
Both use INSERT ... ON CONFLICT.
"""

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    String,
    Table,
    Text,
    any_,
    bindparam,
    func,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import TableValuedAlias
from sqlalchemy.types import TypeEngine

from shared.importing.validation import CUSTOMER_COLUMNS
from shared.models import Customer, Event, EventKind, Membership, Segment

customers = cast(Table, Customer.__table__)
memberships = cast(Table, Membership.__table__)
segments = cast(Table, Segment.__table__)
events = cast(Table, Event.__table__)

# Columns an upsert writes: what a row may set, and the folded name derived from it.
WRITTEN_COLUMNS = (*CUSTOMER_COLUMNS, "search_name")
# Columns an upsert rewrites on an existing customer (all it may set, and the time).
UPDATED_COLUMNS = (*WRITTEN_COLUMNS, "custom", "updated_at")


def _is_postgresql(session: AsyncSession) -> bool:
    name = session.get_bind().dialect.name
    if name not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"imports support PostgreSQL and SQLite, not {name}")
    return name == "postgresql"


def _array(name: str, values: Sequence[Any], item: TypeEngine[Any]) -> ColumnElement[Any]:
    """One array parameter, typed: a list of only NULLs has no type of its own."""
    array_type = postgresql.ARRAY(item)
    return sql_cast(bindparam(name, list(values), type_=array_type), array_type)


def _unnest(columns: dict[str, tuple[Sequence[Any], TypeEngine[Any]]]) -> TableValuedAlias:
    """Rows from parallel arrays, numbered by `n` in the order given."""
    arrays = [_array(name, values, item) for name, (values, item) in columns.items()]
    return func.unnest(*arrays).table_valued(*columns, with_ordinality="n").render_derived(name="r")


def _const(name: str, value: Any, type_: TypeEngine[Any]) -> ColumnElement[Any]:
    return bindparam(name, value, type_=type_)


async def existing_customers(
    session: AsyncSession, tenant_id: int, external_ids: Iterable[str]
) -> Sequence[Any]:
    """(id, external_id, *CUSTOMER_COLUMNS, custom, membership's assignment_id, segment_id,
    id) of the tenant's customers with these external ids."""
    c, m = customers.c, memberships.c
    ids = list(external_ids)
    matches = (
        c.external_id == any_(_array("external_ids", ids, String()))
        if _is_postgresql(session)
        else c.external_id.in_(ids)
    )
    query = (
        select(
            c.id,
            c.external_id,
            *(c[name] for name in CUSTOMER_COLUMNS),
            c.custom,
            m.assignment_id,
            m.segment_id,
            m.id.label("membership_id"),
        )
        .select_from(customers.outerjoin(memberships, m.customer_id == c.id))
        .where(c.tenant_id == tenant_id, matches)
    )
    return (await session.execute(query)).all()


async def upsert_customers(
    session: AsyncSession, tenant_id: int, rows: Sequence[dict[str, Any]], now: datetime
) -> list[tuple[int, str]]:
    """Insert or update by (tenant, external_id); each row has external_id, WRITTEN_COLUMNS
    and custom. Returns (id, external_id) of every row written."""
    if _is_postgresql(session):
        source = _unnest(
            {
                "external_id": ([r["external_id"] for r in rows], String()),
                **{name: ([r[name] for r in rows], String()) for name in WRITTEN_COLUMNS},
                "custom": ([json.dumps(r["custom"]) for r in rows], Text()),
            }
        )
        names = [
            "tenant_id",
            "external_id",
            *WRITTEN_COLUMNS,
            "custom",
            "created_at",
            "updated_at",
        ]
        insert: Any = postgresql.insert(customers).from_select(
            names,
            select(
                _const("tenant_id", tenant_id, BigInteger()),
                source.c.external_id,
                *(source.c[name] for name in WRITTEN_COLUMNS),
                sql_cast(source.c.custom, JSON),
                _const("created_at", now, customers.c.created_at.type),
                _const("updated_at", now, customers.c.updated_at.type),
            ).order_by(source.c.n),
            include_defaults=True,
        )
        params: list[dict[str, Any]] | None = None
    else:
        insert = sqlite.insert(customers)
        params = [{"tenant_id": tenant_id, **r, "created_at": now, "updated_at": now} for r in rows]
    statement = insert.on_conflict_do_update(
        index_elements=[customers.c.tenant_id, customers.c.external_id],
        set_={name: insert.excluded[name] for name in UPDATED_COLUMNS},
    ).returning(customers.c.id, customers.c.external_id)
    result = (
        await session.execute(statement, params) if params else await session.execute(statement)
    )
    return [(int(id_), str(external_id)) for id_, external_id in result]


async def insert_memberships(
    session: AsyncSession,
    *,
    tenant_id: int,
    assignment_id: int,
    state: str,
    user_id: int | None,
    joining: Sequence[tuple[int, int | None]],
    now: datetime,
) -> set[int]:
    """Memberships for (customer_id, segment_id) in the order given (the queue's import
    order); a customer that has one already is skipped. Returns the customers that joined."""
    fixed: dict[str, Any] = {
        "tenant_id": tenant_id,
        "assignment_id": assignment_id,
        "state": state,
        "state_set_by": "import",
        "state_set_by_user_id": user_id,
        "state_set_at": now,
        "attempts": 0,
        "version": 1,
        "created_at": now,
    }
    if _is_postgresql(session):
        source = _unnest(
            {
                "customer_id": ([j[0] for j in joining], BigInteger()),
                "segment_id": ([j[1] for j in joining], BigInteger()),
            }
        )
        insert: Any = postgresql.insert(memberships).from_select(
            ["customer_id", "segment_id", *fixed],
            select(
                source.c.customer_id,
                source.c.segment_id,
                *(_const(name, value, memberships.c[name].type) for name, value in fixed.items()),
            ).order_by(source.c.n),
            include_defaults=True,
        )
        params: list[dict[str, Any]] | None = None
    else:
        insert = sqlite.insert(memberships)
        params = [{"customer_id": c, "segment_id": s, **fixed} for c, s in joining]
    statement = insert.on_conflict_do_nothing(index_elements=[memberships.c.customer_id]).returning(
        memberships.c.customer_id
    )
    result = (
        await session.execute(statement, params) if params else await session.execute(statement)
    )
    return {int(customer_id) for (customer_id,) in result}


async def move_to_segments(session: AsyncSession, moves: Sequence[tuple[int, int | None]]) -> None:
    """Set (membership_id, segment_id): another segment of the same assignment, no other
    change (rule 9). Rare in an import, so one executemany serves both databases."""
    await session.execute(
        update(memberships)
        .where(memberships.c.id == bindparam("membership_id"))
        .values(segment_id=bindparam("new_segment_id")),
        [{"membership_id": m, "new_segment_id": s} for m, s in moves],
        execution_options={"synchronize_session": False},
    )


async def insert_imported_events(
    session: AsyncSession,
    *,
    tenant_id: int,
    assignment_id: int,
    user_id: int | None,
    to_state: str,
    joined: Sequence[tuple[int, dict[str, Any]]],
    now: datetime,
) -> None:
    """One "imported" event per (customer_id, data)."""
    fixed: dict[str, Any] = {
        "tenant_id": tenant_id,
        "assignment_id": assignment_id,
        "user_id": user_id,
        "kind": EventKind.imported.value,
        "to_state": to_state,
        "comment": "",
        "created_at": now,
    }
    if _is_postgresql(session):
        source = _unnest(
            {
                "customer_id": ([j[0] for j in joined], BigInteger()),
                "data": ([json.dumps(j[1]) for j in joined], Text()),
            }
        )
        await session.execute(
            events.insert().from_select(
                ["customer_id", "data", *fixed],
                select(
                    source.c.customer_id,
                    sql_cast(source.c.data, JSON),
                    *(_const(name, value, events.c[name].type) for name, value in fixed.items()),
                ).order_by(source.c.n),
                include_defaults=True,
            )
        )
    else:
        await session.execute(
            events.insert(), [{"customer_id": c, "data": d, **fixed} for c, d in joined]
        )


async def segment_ids(session: AsyncSession, assignment_id: int, names: set[str]) -> dict[str, int]:
    query = select(segments.c.name, segments.c.id).where(
        segments.c.assignment_id == assignment_id, segments.c.name.in_(names)
    )
    return {str(name): int(id_) for name, id_ in await session.execute(query)}


async def create_segments(
    session: AsyncSession, tenant_id: int, assignment_id: int, names: Iterable[str], now: datetime
) -> None:
    """Segments by name; one created meanwhile by someone else is left as it is."""
    insert = (postgresql.insert if _is_postgresql(session) else sqlite.insert)(segments)
    await session.execute(
        insert.on_conflict_do_nothing(index_elements=[segments.c.assignment_id, segments.c.name]),
        [
            {
                "tenant_id": tenant_id,
                "assignment_id": assignment_id,
                "name": name,
                "created_at": now,
            }
            for name in sorted(names)
        ],
    )


async def memberships_elsewhere(
    session: AsyncSession, customer_ids: Iterable[int], assignment_id: int
) -> set[int]:
    """Which of these customers are members of another assignment."""
    found = await session.scalars(
        select(memberships.c.customer_id).where(
            memberships.c.customer_id.in_(list(customer_ids)),
            memberships.c.assignment_id != assignment_id,
        )
    )
    return {int(c) for c in found}
