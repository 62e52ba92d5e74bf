"""The hot statements behind one interface: read the card, write at a version, look up the
barred numbers a placement needs.

Two implementations, chosen once at start-up (`open_store`): on PostgreSQL the statements run
on plain asyncpg connections (shared/infra/directdb.py, decision 014), elsewhere (the embedded
SQLite) on the SQLAlchemy engine. Callers never ask which one they hold.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.contact.bars import Bars, listed_among, registered_among
from shared.infra.clock import utc_now
from shared.infra.directdb import DirectPool, DirectStatement
from shared.infra.settings import Settings
from shared.membership import statements
from shared.membership.record import MembershipRecord
from shared.membership.statements import CustomerView, card_of, write_params
from shared.models import Meeting, Product
from shared.webhooks import outbox
from shared.webhooks.types import WebhookType, event_message

Card = tuple[MembershipRecord, CustomerView]


@dataclass(frozen=True, slots=True)
class Written:
    event_id: int
    # Which of the numbers written with it are barred (shared.contact.bars.bar_mask).
    bar_mask: int


@dataclass(frozen=True, slots=True)
class Extras:
    """Rows that belong to the event: products offered or sold, a meeting booked (rule 24);
    written in the same transaction."""

    products: Sequence[Mapping[str, Any]] = ()
    meeting: Mapping[str, Any] | None = None

    def __bool__(self) -> bool:
        return bool(self.products) or self.meeting is not None


NO_EXTRAS = Extras()


class MembershipStore(Protocol):
    async def read_card(self, customer_id: int, *, tenant_id: int) -> Card | None:
        """The membership and its customer by primary key, outside any transaction."""

    async def write_versioned(
        self,
        record: MembershipRecord,
        *,
        version: int,
        event: Mapping[str, Any],
        phones: Sequence[str],
        extras: Extras = NO_EXTRAS,
        hook: WebhookType | None = None,
    ) -> Written | None:
        """Store `record` and its event where the row is at `version`; None if it moved on.
        With `hook`, the event's webhook deliveries are written in the same transaction."""

    async def bars_among(self, tenant_id: int, phones: Collection[str]) -> Bars:
        """Which of these numbers the tenant bars (to place a customer)."""

    async def close(self) -> None: ...


class EngineStore:
    """The statements through SQLAlchemy's engine (SQLite, the embedded default).

    AUTOCOMMIT sends no BEGIN and no ROLLBACK around a single statement, so a read costs one
    round trip; the write is one statement where the database allows an UPDATE in a WITH,
    else three in one transaction.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._one_statement = engine.dialect.name == "postgresql"

    async def read_card(self, customer_id: int, *, tenant_id: int) -> Card | None:
        params = {"customer_id": customer_id, "tenant_id": tenant_id}
        async with self.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            row = (await conn.execute(statements.CARD_QUERY, params)).one_or_none()
        return None if row is None else card_of(row)

    async def write_versioned(
        self,
        record: MembershipRecord,
        *,
        version: int,
        event: Mapping[str, Any],
        phones: Sequence[str],
        extras: Extras = NO_EXTRAS,
        hook: WebhookType | None = None,
    ) -> Written | None:
        params = write_params(record, version, event, phones)
        if self._one_statement and not extras and hook is None:
            async with self.engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                row = (await conn.execute(statements.ONE_STATEMENT, params)).one_or_none()
            return None if row is None else Written(row[0], row[1])
        return await self._in_transaction(params, event, extras, hook)

    async def _in_transaction(
        self,
        params: dict[str, Any],
        event: Mapping[str, Any],
        extras: Extras,
        hook: WebhookType | None = None,
    ) -> Written | None:
        async with self.engine.begin() as conn:
            if self._one_statement:
                row = (await conn.execute(statements.ONE_STATEMENT, params)).one_or_none()
                if row is None:
                    return None
                written = Written(row[0], row[1])
            else:
                if (await conn.execute(statements.UPDATE, params)).one_or_none() is None:
                    return None
                event_id = (await conn.execute(statements.INSERT_EVENT, params)).scalar_one()
                mask = (await conn.execute(statements.BARS, params)).scalar_one()
                written = Written(event_id, mask)
            if extras:
                await _write_extras(conn, extras, event, written.event_id)
            if hook is not None:
                message = event_message(
                    hook, event, event_id=written.event_id, at=event["created_at"]
                )
                await outbox.enqueue(conn, event["tenant_id"], message)
            return written

    async def bars_among(self, tenant_id: int, phones: Collection[str]) -> Bars:
        if not phones:
            return Bars()
        async with self.engine.connect() as conn:
            listed = (await conn.scalars(listed_among(tenant_id, phones, now=utc_now()))).all()
            registered = (await conn.scalars(registered_among(tenant_id, phones))).all()
        return Bars(set(listed), set(registered))

    async def close(self) -> None:
        """The engine is the application's: disposed of where it was created."""


_CARD_DIRECT = DirectStatement(statements.CARD_QUERY)
_ONE_DIRECT = DirectStatement(statements.ONE_STATEMENT)
_HOOKED_DIRECT = DirectStatement(statements.ONE_STATEMENT_HOOKED)


class PostgresStore(EngineStore):
    """On PostgreSQL the card read and the plain write run on the direct pool; a write with
    products or a meeting is a transaction, on the engine."""

    def __init__(self, engine: AsyncEngine, pool: DirectPool) -> None:
        super().__init__(engine)
        self.pool = pool

    async def read_card(self, customer_id: int, *, tenant_id: int) -> Card | None:
        row = await self.pool.fetchone(
            _CARD_DIRECT, {"customer_id": customer_id, "tenant_id": tenant_id}
        )
        return None if row is None else card_of(row)

    async def write_versioned(
        self,
        record: MembershipRecord,
        *,
        version: int,
        event: Mapping[str, Any],
        phones: Sequence[str],
        extras: Extras = NO_EXTRAS,
        hook: WebhookType | None = None,
    ) -> Written | None:
        params = write_params(record, version, event, phones)
        if extras:
            return await self._in_transaction(params, event, extras, hook)
        if hook is None:
            found = await self.pool.fetchone(_ONE_DIRECT, params)
        else:
            # Still one statement: the deliveries ride along (decision 037).
            found = await self.pool.fetchone(
                _HOOKED_DIRECT, params | outbox.hook_params(hook, event)
            )
        return None if found is None else Written(found[0], found[1])

    async def close(self) -> None:
        await self.pool.close()


async def open_store(settings: Settings, engine: AsyncEngine) -> MembershipStore:
    """The store for the configured database, its connections opened."""
    pool = DirectPool.for_settings(settings)
    if pool is None:
        return EngineStore(engine)
    await pool.open()
    return PostgresStore(engine, pool)


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
