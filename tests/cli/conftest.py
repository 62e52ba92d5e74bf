"""The command line reads Settings() from the environment: point it at the test servers."""

import asyncio
from pathlib import Path

import pytest
from redis import Redis as SyncRedis

from services.queue import AssignmentQueue
from shared.infra.redis import create_redis
from shared.infra.settings import Settings


@pytest.fixture
def cli_settings(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    # The database is emptied before every test, ids from 1; Redis too, or queues an earlier
    # test left (customers leased under assignment 1) would show in this one's assignments.
    with SyncRedis.from_url(settings.redis_url) as client:
        client.flushdb()
    monkeypatch.setenv("NEXTCALL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("NEXTCALL_REDIS_URL", settings.redis_url)
    monkeypatch.setenv("NEXTCALL_DATA_DIR", str(tmp_path / "data"))
    return Settings()


def queue_depth(settings: Settings, assignment_id: int) -> dict[str, int]:
    """Read in an event loop of its own: the commands run outside the tests' loop."""

    async def read() -> dict[str, int]:
        client = create_redis(settings, process_name="tests")
        try:
            return await AssignmentQueue(client, assignment_id).depth()
        finally:
            await client.aclose()

    return asyncio.run(read())
