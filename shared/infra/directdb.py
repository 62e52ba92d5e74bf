"""The hot path's statements on plain asyncpg connections (PostgreSQL only).

Every next + outcome cycle runs three statements: the card read on /next, and on the outcome
the card read and one versioned write. Client CPU per single-row read, same statement and
server (decision 014): about 1.3 ms through SQLAlchemy's async engine, 0.8 ms on a raw
connection checked out of its pool, 0.3 ms on a psycopg_pool connection, 0.23 ms on asyncpg's
own pool, 0.1 ms on one asyncpg connection. What separates the last ones is the pool's
checkout and return, not the query.

So those statements run here, on asyncpg connections handed out by a plain asyncio queue:
checkout is a queue get, return a queue put. Everything else stays on SQLAlchemy. Each
statement is still written once, as a Core statement, and compiled here to asyncpg's SQL, so
the schema has one definition. SQLite (the embedded default) has no such pool: callers fall
back to the engine.
"""

import asyncio
import json
from collections import deque
from collections.abc import Mapping
from typing import Any, cast

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from shared.infra import metrics
from shared.infra.settings import Settings

_DIALECT = PGDialect_asyncpg()
# Connections opened at start; more are opened while requests wait, up to the pool's size.
MIN_OPEN = 2
# A dead server must fail a request quickly rather than hang it.
CONNECT_TIMEOUT_S = 5.0


class DirectStatement:
    """A Core statement compiled once to asyncpg's SQL ($1, $2, ...) and its argument order."""

    def __init__(self, statement: ClauseElement) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=_DIALECT))
        self.sql = str(compiled)
        # Literals SQLAlchemy turned into parameters (e.g. the 1 of "version + 1").
        fixed: dict[str, Any] = {
            compiled.bind_names[bind]: bind.value
            for bind in compiled.binds.values()
            if not bind.required
        }
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        self._fixed = fixed

    def args(self, given: Mapping[str, Any]) -> list[Any]:
        fixed = self._fixed
        return [given[name] if name in given else fixed[name] for name in self.names]


async def _configure(conn: asyncpg.Connection) -> None:
    # JSON columns as Python values both ways, as SQLAlchemy gives them everywhere else.
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


class PoolClosed(Exception):
    """The API is shutting down: no more statements."""


# Errors after which a connection is not given back: the server ended it or is ending it
# (a FATAL message can arrive before the connection is seen closed).
_BROKEN = (asyncpg.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError)


class DirectPool:
    """Up to `size` autocommit asyncpg connections for single-statement round trips.

    Idle connections wait in a list (the warmest reused first); requests that find none wait
    in line, first come first served, and a returned connection goes straight to the first
    of them. A slot whose connection broke is opened again by the next request that needs it.
    """

    def __init__(self, dsn: str, *, size: int) -> None:
        self.dsn = dsn
        self.size = size
        self._idle: list[asyncpg.Connection] = []
        self._waiting: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self._slots = size  # connections that may still be opened
        self._closed = False
        # Statements run so far: what a test counts to hold the hot path to its budget.
        self.executed = 0

    @classmethod
    def for_settings(cls, settings: Settings) -> "DirectPool | None":
        """A pool when the database is PostgreSQL; None for SQLite."""
        url = settings.database_url
        if not url.startswith("postgres"):
            return None
        _, _, rest = url.partition("://")
        return cls(f"postgresql://{rest}", size=settings.db_direct_pool_size)

    async def _connect(self) -> asyncpg.Connection:
        """Open a connection in a slot the caller holds; the slot is passed on on failure."""
        try:
            if self._closed:
                raise PoolClosed("the database pool is closed")
            conn = await asyncpg.connect(
                self.dsn, timeout=CONNECT_TIMEOUT_S, server_settings={"TimeZone": "UTC"}
            )
        except BaseException:
            self._free_slot()
            raise
        try:
            await _configure(conn)
        except BaseException:
            conn.terminate()
            self._free_slot()
            raise
        return conn

    async def open(self) -> None:
        try:
            for _ in range(min(MIN_OPEN, self.size)):
                self._slots -= 1
                self._idle.append(await self._connect())
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Close the idle connections; those in use are closed when given back."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.terminate()
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_exception(PoolClosed("the database pool is closed"))

    async def _take(self) -> asyncpg.Connection:
        if self._closed:
            raise PoolClosed("the database pool is closed")
        if self._idle and not self._waiting:
            conn = self._idle.pop()
            # A connection the server closed while idle is opened again in its slot.
            return conn if not conn.is_closed() else await self._connect()
        if self._slots > 0:
            self._slots -= 1
            return await self._connect()
        waiter: asyncio.Future[asyncpg.Connection | None] = (
            asyncio.get_running_loop().create_future()
        )
        self._waiting.append(waiter)
        try:
            handed = await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._give_back(waiter.result())
            elif waiter in self._waiting:  # a give-back may have dropped it already
                self._waiting.remove(waiter)
            raise
        # None: a connection broke and left its slot to this request.
        return handed if handed is not None else await self._connect()

    def _give_back(self, conn: asyncpg.Connection | None) -> None:
        if self._closed and conn is not None:
            conn.terminate()
            conn = None
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        if conn is None:
            self._slots += 1
        else:
            self._idle.append(conn)

    def _free_slot(self) -> None:
        self._give_back(None)

    def counts(self) -> tuple[int, int]:
        """Connections in use and idle, for the pool metrics."""
        opened = self.size - self._slots
        return opened - len(self._idle), len(self._idle)

    async def fetchone(
        self, statement: DirectStatement, params: Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        """Run one statement (prepared once per connection by asyncpg); its first row."""
        self.executed += 1
        args = statement.args(params)
        conn = await self._take()
        try:
            row = await conn.fetchrow(statement.sql, *args)
        except asyncpg.PostgresError as exc:
            # The server refused the statement; the connection is fine unless it is ending.
            if isinstance(exc, _BROKEN) or conn.is_closed():
                metrics.DB_ERRORS.labels("direct", "disconnect").inc()
                conn.terminate()
                self._free_slot()
            else:
                metrics.DB_ERRORS.labels("direct", "statement").inc()
                self._give_back(conn)
            raise
        except BaseException:
            # Cancelled mid-statement or the connection broke: its state is unknown.
            conn.terminate()
            self._free_slot()
            raise
        self._give_back(conn)
        return None if row is None else tuple(row)
