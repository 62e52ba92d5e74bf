"""The hot path's statements on plain psycopg connections (PostgreSQL only).

Every next + outcome cycle runs three statements: the card read on /next, and on the outcome
the card read and one versioned write. Measured on this machine (client CPU per single-row
read, same statement, same server): about 1.3 ms through SQLAlchemy's async engine, 0.8 ms
on a raw connection checked out of SQLAlchemy's pool, 0.3 ms on a psycopg connection. The
pool checkout and return and the greenlet bridge cost more than the query itself.

So those statements run here, on a psycopg_pool pool of autocommit connections; everything
else stays on SQLAlchemy. Each statement is still written once, as a Core statement, and
compiled here to psycopg's SQL, so the schema has one definition. SQLite (the embedded
default) has no such pool: callers fall back to the engine.
"""

from collections.abc import Mapping
from typing import Any, cast

from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.dialects.postgresql.psycopg import PGDialectAsync_psycopg
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from shared.settings import Settings

_DIALECT = PGDialectAsync_psycopg()
# Connections opened at start; more are opened while requests wait, up to the pool's size.
MIN_OPEN = 2


class DirectStatement:
    """A Core statement compiled once to psycopg's SQL, with its fixed parameters."""

    def __init__(self, statement: ClauseElement) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=_DIALECT))
        self.sql = str(compiled)
        # Literals SQLAlchemy turned into parameters (e.g. the 1 of "version + 1").
        self.fixed: dict[str, Any] = {
            compiled.bind_names[bind]: bind.value
            for bind in compiled.binds.values()
            if not bind.required
        }

    def params(self, given: Mapping[str, Any]) -> dict[str, Any]:
        return {**self.fixed, **given}


async def _utc(conn: AsyncConnection[TupleRow]) -> None:
    # Times come back in UTC, as SQLAlchemy's UTCDateTime gives them everywhere else.
    await conn.execute("SET TIME ZONE 'UTC'")


class DirectPool:
    """A small pool of autocommit psycopg connections for single-statement round trips."""

    def __init__(self, conninfo: str, *, size: int) -> None:
        self._pool = AsyncConnectionPool(
            conninfo,
            min_size=min(MIN_OPEN, size),
            max_size=size,
            open=False,
            kwargs={"autocommit": True},
            configure=_utc,
            name="nextcall-direct",
        )
        # Statements run so far: what a test counts to hold the hot path to its budget.
        self.executed = 0

    @classmethod
    def for_settings(cls, settings: Settings) -> "DirectPool | None":
        """A pool when the database is PostgreSQL; None for SQLite."""
        url = settings.database_url
        if not url.startswith("postgresql"):
            return None
        _, _, rest = url.partition("://")
        return cls(f"postgresql://{rest}", size=settings.db_direct_pool_size)

    async def open(self) -> None:
        await self._pool.open()

    async def close(self) -> None:
        await self._pool.close()

    async def fetchone(
        self, statement: DirectStatement, params: Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        """Run one statement (prepared on each connection after a few uses); its first row."""
        self.executed += 1
        async with self._pool.connection() as conn:
            cursor = await conn.execute(statement.sql, statement.params(params), prepare=True)
            return await cursor.fetchone()
