"""The scheduler's ticks in metrics: how long they take, how late they start, when the last
one ended (the alert NextcallSchedulerStalled watches that)."""

import asyncio
import threading
import time

from prometheus_client import REGISTRY
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.worker.scheduler import Scheduler


def _value(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


class TestTickMetrics:
    async def test_every_tick_is_timed_and_the_last_one_stamped(
        self, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
    ) -> None:
        scheduler = Scheduler(sessionmaker=sessionmaker, redis=redis, refresh_s=0.0)
        ticks = _value("nextcall_scheduler_tick_duration_seconds_count")
        lags = _value("nextcall_scheduler_lag_seconds_count")
        started = time.time()
        stop = threading.Event()
        running = asyncio.create_task(scheduler.run(interval_s=0.05, stop=stop))

        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.wait_for(running, timeout=5)

        assert _value("nextcall_scheduler_tick_duration_seconds_count") >= ticks + 3
        assert _value("nextcall_scheduler_lag_seconds_count") >= lags + 3
        last = _value("nextcall_scheduler_last_tick_timestamp_seconds")
        assert started < last <= time.time()
