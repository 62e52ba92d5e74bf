"""The API with loopback receivers allowed (the tests' receivers listen on 127.0.0.1), two
tenants, and the work world whose writes produce webhooks."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from redis.asyncio import Redis

from services.api.app import create_app
from shared.infra.settings import Settings
from tests.api.orgs import Org, acme, globex
from tests.api.world import world

__all__ = ["acme", "globex", "world"]

RECEIVER = "http://127.0.0.1:9/hooks"


@pytest.fixture
async def app(settings: Settings, redis: Redis) -> AsyncIterator[FastAPI]:
    application = create_app(settings.model_copy(update={"webhook_allow_private_targets": True}))
    async with LifespanManager(application):
        yield application


async def new_endpoint(org: Org, **body: Any) -> dict[str, Any]:
    r = await org.post(
        "/v1/webhooks/endpoints",
        {"url": RECEIVER, "event_types": ["outcome.registered"]} | body,
    )
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created
