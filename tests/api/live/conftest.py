"""The app's live parts, and a worker scheduler sharing the test's Redis and database."""

import asyncio
import time
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.api.resources import Resources
from services.worker.scheduler import Scheduler


@pytest.fixture
def resources(app: FastAPI) -> Resources:
    found: Resources = app.state.resources
    return found


@pytest.fixture
def scheduler(sessionmaker: async_sessionmaker[AsyncSession], redis: Redis) -> Scheduler:
    return Scheduler(sessionmaker=sessionmaker, redis=redis, refresh_s=0.0)


async def eventually(check: Callable[[], bool], *, within_s: float = 5.0) -> None:
    """Wait (briefly polling) until `check()` holds."""
    deadline = time.monotonic() + within_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)
