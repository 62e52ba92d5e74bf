"""The PostgreSQL path of an import batch: COPY into temporary tables, then set-based SQL.

Parameters, even one array per column, are turned into wire format by the driver one
element at a time in Python; COPY rows are formatted by psycopg's C code and parsed by the
server in bulk. So a batch is copied into a staging table that lives until the commit
(ON COMMIT DROP), and customers, memberships and events are written by one INSERT ... SELECT
each. The portable path (shared.importing.statements) serves SQLite.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.importing.statements import WRITTEN_COLUMNS
from shared.importing.validation import CUSTOMER_COLUMNS
from shared.models import EventKind

# One staged row: where it stands in the batch, what is known of the customer, its values.
STAGED_COLUMNS = (
    "n",
    "external_id",
    "customer_id",
    "dirty",
    "joining",
    "segment_id",
    *WRITTEN_COLUMNS,
    "custom",
)
_STAGING_TABLE = f"""
CREATE TEMPORARY TABLE import_rows (
    n integer, external_id text, customer_id bigint, dirty boolean, joining boolean,
    segment_id bigint, {", ".join(f"{c} text" for c in WRITTEN_COLUMNS)}, custom text
) ON COMMIT DROP
"""
_KEYS_TABLE = "CREATE TEMPORARY TABLE import_keys (external_id text) ON COMMIT DROP"

_SET_COLUMNS = ", ".join(f"{c} = EXCLUDED.{c}" for c in (*WRITTEN_COLUMNS, "custom", "updated_at"))
# One statement per batch: the dirty customers upserted, the joining ones made members in
# file order (membership ids are the queue's import order) with an "imported" event each. A
# customer that has a membership already (it joined meanwhile) is skipped. New customers'
# ids come from the upsert itself, so nothing probes the (large) customers table.
_WRITE = f"""
WITH up AS (
    INSERT INTO customers (tenant_id, external_id, {", ".join(WRITTEN_COLUMNS)}, custom,
                           created_at, updated_at)
    SELECT :tenant_id, r.external_id, {", ".join(f"r.{c}" for c in WRITTEN_COLUMNS)},
           r.custom::json, :now, :now
    FROM import_rows r WHERE r.dirty ORDER BY r.n
    ON CONFLICT (tenant_id, external_id) DO UPDATE SET {_SET_COLUMNS}
    RETURNING id, external_id
), joined AS (
    INSERT INTO memberships (customer_id, segment_id, tenant_id, assignment_id, state,
                             state_set_by, state_set_by_user_id, state_set_at, attempts,
                             version, created_at)
    SELECT COALESCE(up.id, r.customer_id), r.segment_id, :tenant_id, :assignment_id, :state,
           'import', :user_id, :now, 0, 1, :now
    FROM import_rows r LEFT JOIN up ON up.external_id = r.external_id
    WHERE r.joining ORDER BY r.n
    ON CONFLICT (customer_id) DO NOTHING
    RETURNING id, customer_id, segment_id
), logged AS (
    INSERT INTO events (customer_id, data, tenant_id, assignment_id, user_id, kind, to_state,
                        comment, created_at, excluded_from_reports)
    SELECT j.customer_id,
           json_build_object('import_id', CAST(:import_id AS bigint), 'segment_id', j.segment_id),
           :tenant_id, :assignment_id, :user_id, :kind, :state, '', :now, false
    FROM joined j ORDER BY j.id
)
SELECT 'customer', id, external_id FROM up
UNION ALL
SELECT 'member', id, CAST(customer_id AS text) FROM joined
"""
# The batch's ids probed one by one (a nested loop on the unique index): a hash join would
# read all the tenant's customers, a million of them, for every batch.
_EXISTING = f"""
SELECT c.id, c.external_id, {", ".join(f"c.{n}" for n in CUSTOMER_COLUMNS)}, c.custom,
       m.assignment_id, m.segment_id, m.id AS membership_id
FROM import_keys k
CROSS JOIN LATERAL (
    SELECT * FROM customers WHERE tenant_id = :tenant_id AND external_id = k.external_id
) c
LEFT JOIN memberships m ON m.customer_id = c.id
"""


@dataclass(frozen=True, slots=True)
class Joined:
    membership_id: int
    customer_id: int


async def _driver(session: AsyncSession) -> AsyncConnection[Any]:
    """The session's psycopg connection, in the session's transaction."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
    return driver


async def copy_rows(
    session: AsyncSession, statement: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """COPY rows into a table or a staging table (PostgreSQL only)."""
    driver = await _driver(session)
    command = f"COPY {statement} ({', '.join(columns)}) FROM STDIN"
    async with driver.cursor() as cursor, cursor.copy(command) as copy:
        for row in rows:
            await copy.write_row(row)


async def existing_customers(
    session: AsyncSession, tenant_id: int, external_ids: Iterable[str]
) -> Sequence[Any]:
    """As statements.existing_customers: the ids copied in, then one join."""
    await session.execute(text(_KEYS_TABLE))
    await copy_rows(session, "import_keys", ["external_id"], ([e] for e in external_ids))
    return (await session.execute(text(_EXISTING), {"tenant_id": tenant_id})).all()


async def write_batch(
    session: AsyncSession,
    rows: Iterable[Sequence[Any]],
    *,
    tenant_id: int,
    assignment_id: int,
    state: str,
    user_id: int | None,
    import_id: int | None,
    now: datetime,
) -> tuple[list[tuple[int, str]], list[Joined]]:
    """Stages `rows` (values in STAGED_COLUMNS order), upserts the dirty customers and makes
    the joining ones members with an "imported" event each. Returns (id, external_id) of the
    customers written and the memberships created."""
    await session.execute(text(_STAGING_TABLE))
    await copy_rows(session, "import_rows", STAGED_COLUMNS, rows)
    written = await session.execute(
        text(_WRITE),
        {
            "tenant_id": tenant_id,
            "assignment_id": assignment_id,
            "state": state,
            "user_id": user_id,
            "import_id": import_id,
            "kind": EventKind.imported.value,
            "now": now,
        },
    )
    customers: list[tuple[int, str]] = []
    joined: list[Joined] = []
    for what, id_, key in written:
        if what == "customer":
            customers.append((int(id_), str(key)))
        else:
            joined.append(Joined(int(id_), int(key)))
    return customers, joined
