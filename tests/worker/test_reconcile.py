"""The reconcile job: a queue that drifted from the database is repaired, and the drift counted."""

from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import Claimed
from services.worker.reconcile import reconcile_all, reconcile_queue
from tests.worker.conftest import Campaign


def _drift_total() -> float:
    return REGISTRY.get_sample_value("nextcall_queue_drift_total") or 0.0


class TestReconcile:
    async def test_a_deleted_key_and_a_stray_member_are_repaired_and_counted(
        self, campaign: Campaign, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        customers = await campaign.customers(3)
        queue = campaign.queue
        held = await queue.claim(user_id=campaign.agent.id, lease_seconds=60)
        assert isinstance(held, Claimed)
        intact = await queue.snapshot()
        (free_key,) = [k for k in intact if k.startswith("free:")]
        # Drift: the free customers' sorted set is gone, and a customer nobody has is in it.
        await campaign.redis.delete(queue._key(free_key))
        await campaign.redis.zadd(queue._key(free_key), {"stray-member": 0})
        before = _drift_total()

        found = await reconcile_queue(
            campaign.assignment.id, sessionmaker=sessionmaker, redis=campaign.redis
        )

        assert found == 3  # two members missing, one stray
        assert _drift_total() - before == 3
        assert await queue.snapshot() == intact
        assert (await queue.holders()) == {customers[0].id: campaign.agent.id}

    async def test_an_intact_queue_has_no_drift(
        self, campaign: Campaign, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await campaign.customers(5)
        before = _drift_total()

        found = await reconcile_all(sessionmaker=sessionmaker, redis=campaign.redis, now_s=0)
        again = await reconcile_all(sessionmaker=sessionmaker, redis=campaign.redis, now_s=1)

        assert found == 0
        assert again is None  # one replica per interval
        assert _drift_total() == before
