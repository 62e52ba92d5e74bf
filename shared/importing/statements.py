"""The portable statements of an import batch (SQLite, the embedded default): plain
executemany of INSERT ... ON CONFLICT, which SQLite's driver runs in C. PostgreSQL takes the
COPY path of shared.importing.staging; segments and moves are shared by both.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

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


def is_postgresql(session: AsyncSession) -> bool:
    name = session.get_bind().dialect.name
    if name not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"imports support PostgreSQL and SQLite, not {name}")
    return name == "postgresql"


async def existing_customers(
    session: AsyncSession, tenant_id: int, external_ids: Iterable[str]
) -> Sequence[Any]:
    """(id, external_id, *CUSTOMER_COLUMNS, custom, membership's assignment_id, segment_id,
    id) of the tenant's customers with these external ids."""
    c, m = customers.c, memberships.c
    matches = c.external_id.in_(list(external_ids))
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
    insert = sqlite.insert(customers)
    params = [{"tenant_id": tenant_id, **r, "created_at": now, "updated_at": now} for r in rows]
    statement = insert.on_conflict_do_update(
        index_elements=[customers.c.tenant_id, customers.c.external_id],
        set_={name: insert.excluded[name] for name in UPDATED_COLUMNS},
    ).returning(customers.c.id, customers.c.external_id)
    result = await session.execute(statement, params)
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
    insert = sqlite.insert(memberships)
    params = [{"customer_id": c, "segment_id": s, **fixed} for c, s in joining]
    statement = insert.on_conflict_do_nothing(index_elements=[memberships.c.customer_id]).returning(
        memberships.c.customer_id
    )
    result = await session.execute(statement, params)
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
    insert = (postgresql.insert if is_postgresql(session) else sqlite.insert)(segments)
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
