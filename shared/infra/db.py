"""Database engine and session factories; one unit of work per request or job, committed at
the edge by whoever opened it."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from shared.infra import metrics
from shared.infra.settings import Settings


def create_engine(settings: Settings, *, process_name: str) -> AsyncEngine:
    url = settings.async_database_url()
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        # WAL lets the API read while the worker writes; the busy timeout waits out short locks.
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        engine = create_async_engine(
            url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            # No ping before each checkout: it is a round trip on every /next. Connections are
            # recycled instead, and a broken one fails one request, which the client retries.
            pool_pre_ping=False,
            pool_recycle=settings.db_pool_recycle_s,
            connect_args={"application_name": f"nextcall-{process_name}"},
            # Statement errors must not carry their parameters into logs: they hold names and
            # phone numbers (no personal data in logs).
            hide_parameters=True,
        )
    event.listen(engine.sync_engine, "handle_error", _count_error)
    return engine


def _count_error(context: ExceptionContext) -> None:
    kind = "disconnect" if context.is_disconnect else "statement"
    metrics.DB_ERRORS.labels("engine", kind).inc()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One transaction: committed when the block ends, rolled back when it raises."""
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()
