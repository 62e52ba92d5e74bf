"""The lists are read over real HTTP, from a real `nextcall api` process on the test run's
PostgreSQL and Redis; the rows a walk adds are written straight to the database."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from shared.infra.settings import Settings
from tests.api.api_process import ApiProcess, start_apis

# Tables are emptied between tests and ids start again at 1: the process must not answer from
# an assignment it cached in an earlier test.
ENV = {"NEXTCALL_ASSIGNMENT_CACHE_TTL_S": "0"}


@pytest.fixture(scope="package")
def api(
    settings: Settings, migrated: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiProcess]:
    (started,) = start_apis(settings, tmp_path_factory.mktemp("api"), ENV, count=1)
    yield started
    started.stop()


@pytest.fixture
async def http(api: ApiProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as client:
        yield client
