"""The hot path's connection pool (shared/infra/directdb.py) against the real PostgreSQL."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import JSON, bindparam, literal, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.infra.directdb import DirectPool, DirectStatement, PoolClosed
from shared.infra.settings import Settings

_ECHO = DirectStatement(
    select(
        bindparam("n", type_=literal(0).type),
        literal({"a": [1, "ø"]}, type_=JSON),
        text("pg_backend_pid()"),
    )
)
_SLEEP = DirectStatement(select(text("pg_sleep(0.05)"), bindparam("n", type_=literal(0).type)))


@pytest.fixture
async def pool(settings: Settings) -> AsyncIterator[DirectPool]:
    created = DirectPool.for_settings(settings.model_copy(update={"db_direct_pool_size": 2}))
    assert created is not None
    await created.open()
    yield created
    await created.close()


class TestDirectPool:
    async def test_runs_a_statement_with_its_parameters_and_json(self, pool: DirectPool) -> None:
        row = await pool.fetchone(_ECHO, {"n": 7})
        assert row is not None
        assert row[:2] == (7, {"a": [1, "ø"]})
        assert pool.executed == 1

    async def test_more_requests_than_connections_all_served_in_turn(
        self, pool: DirectPool
    ) -> None:
        rows = await asyncio.gather(*(pool.fetchone(_SLEEP, {"n": i}) for i in range(8)))
        assert [r[1] for r in rows if r is not None] == list(range(8))

    async def test_a_cancelled_waiter_does_not_lose_a_connection(self, pool: DirectPool) -> None:
        busy = [asyncio.create_task(pool.fetchone(_SLEEP, {"n": i})) for i in range(2)]
        await asyncio.sleep(0.01)
        waiting = asyncio.create_task(pool.fetchone(_SLEEP, {"n": 9}))
        await asyncio.sleep(0.01)
        waiting.cancel()
        await asyncio.gather(*busy)
        with pytest.raises(asyncio.CancelledError):
            await waiting
        rows = await asyncio.wait_for(
            asyncio.gather(*(pool.fetchone(_SLEEP, {"n": i}) for i in range(4))), 5
        )
        assert len(rows) == 4

    async def test_killed_connections_are_replaced(
        self, pool: DirectPool, engine: AsyncEngine
    ) -> None:
        rows = await asyncio.gather(*(pool.fetchone(_ECHO, {"n": n}) for n in range(2)))
        killed = {row[2] for row in rows if row is not None}
        assert len(killed) == 2  # both connections of the pool
        async with engine.connect() as conn:
            for pid in killed:
                await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await asyncio.sleep(0.1)
        failures, pids = 0, set()
        for n in range(6):
            try:
                row = await pool.fetchone(_ECHO, {"n": n})
            except Exception:
                failures += 1
                continue
            assert row is not None and row[0] == n
            pids.add(row[2])
        # At most each killed connection fails one request; then new ones serve.
        assert failures <= 2
        assert pids and not pids & killed

    async def test_a_waiter_cancelled_as_a_connection_comes_back(self, pool: DirectPool) -> None:
        held = [await pool._take(), await pool._take()]  # both connections of the pool
        waiting = asyncio.create_task(pool.fetchone(_ECHO, {"n": 1}))
        await asyncio.sleep(0.01)  # in line now
        waiting.cancel()
        pool._give_back(held[0])  # in the same pass: the cancelled waiter is passed over
        with pytest.raises(asyncio.CancelledError):
            await waiting
        pool._give_back(held[1])
        assert (await pool.fetchone(_ECHO, {"n": 2}) or ())[0] == 2

    async def test_after_close_nothing_runs_and_no_connection_stays_open(
        self, pool: DirectPool
    ) -> None:
        held = [await pool._take(), await pool._take()]
        waiting = asyncio.create_task(pool.fetchone(_ECHO, {"n": 1}))
        await asyncio.sleep(0.01)
        await pool.close()
        with pytest.raises(PoolClosed):
            await waiting
        with pytest.raises(PoolClosed):
            await pool.fetchone(_ECHO, {"n": 2})
        for conn in held:
            pool._give_back(conn)  # given back after the close: closed, not kept
        assert all(conn.is_closed() for conn in held)
