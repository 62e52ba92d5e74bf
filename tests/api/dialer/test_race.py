"""The 200-agent race through the dialer path (rule 11): dialers reserving at once never get
one customer twice, and answered calls bridged at once never give an agent two calls."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import select

from services.api.app import create_app
from shared.infra.settings import Settings
from shared.infra.tokens import hash_token, new_token
from shared.models import AgentState, AgentStateRow, ApiToken, AttemptLimitAction, User
from tests.api.dialer.floor import DIALER, Floor

AGENTS = 200
# Half what the dialers ask for at once (two each): they compete for every customer.
CUSTOMERS = 200
# Agents bridged at once, with twice as many answered calls as agents.
BRIDGED = 50


@pytest.fixture
async def app(settings: Settings, redis: Redis) -> AsyncIterator[FastAPI]:
    """The app with room for 200 requests at once in one process (production spreads them
    over processes, each with its own pool)."""
    wide = settings.model_copy(update={"redis_max_connections": 4 * AGENTS})
    application = create_app(wide)
    async with LifespanManager(application):
        yield application


async def _tokens(floor: Floor, count: int, permissions: list[str]) -> list[tuple[int, str]]:
    users = [
        User(tenant_id=floor.tenant.id, name=f"User {i}", permissions=permissions)
        for i in range(count)
    ]
    floor.session.add_all(users)
    await floor.session.flush()
    tokens = [new_token() for _ in users]
    floor.session.add_all(
        ApiToken(tenant_id=floor.tenant.id, user_id=u.id, token_hash=hash_token(t))
        for u, t in zip(users, tokens, strict=True)
    )
    await floor.session.commit()
    return [(u.id, t) for u, t in zip(users, tokens, strict=True)]


async def _dialer(floor: Floor, token: str) -> list[int]:
    """Reserve two at once, then report each failed (a system attempt)."""
    headers = floor.auth(token)
    r = await floor.client.post(
        f"/v1/dialer/assignments/{floor.assignment.id}/reservations",
        json={"count": 2},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    reserved = []
    for item in r.json()["reservations"]:
        reserved.append(item["customer_id"])
        w = await floor.client.post(
            f"/v1/dialer/dials/{item['dial_id']}/result",
            json={"result": "failed"},
            headers=headers,
        )
        assert w.status_code == 200, w.text
    return reserved


class TestRace:
    async def test_two_hundred_dialers_reserve_each_customer_once(self, floor: Floor) -> None:
        floor.assignment.attempt_limit = 1  # a reported customer leaves the queue
        floor.assignment.attempt_limit_action = AttemptLimitAction.stop.value
        await floor.session.commit()
        customers = await floor.customers([{} for _ in range(CUSTOMERS)])
        dialers = await _tokens(floor, AGENTS, DIALER)
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_dialer(floor, token)) for _, token in dialers]
        reserved = Counter(c for task in tasks for c in task.result())
        assert set(reserved) == {c.id for c in customers}
        assert max(reserved.values()) == 1
        # Each was reported once, and none is left to dial.
        assert (await floor.reserve(1)).json()["reasons"]["at_attempt_limit"] == CUSTOMERS

    async def test_answered_calls_at_once_give_each_agent_one(self, floor: Floor) -> None:
        await floor.customers([{} for _ in range(2 * BRIDGED)])
        agents = await _tokens(floor, BRIDGED, ["customer_handling"])

        async def ready(token: str) -> httpx.Response:
            return await floor.client.put(
                "/v1/me/state",
                json={"state": "ready", "assignment_id": floor.assignment.id},
                headers=floor.auth(token),
            )

        async with asyncio.TaskGroup() as group:
            readied = [group.create_task(ready(token)) for _, token in agents]
        assert {t.result().status_code for t in readied} == {200}
        dial_ids = await floor.dial_ids(2 * BRIDGED)

        async def answer(dial_id: str) -> httpx.Response:
            return await floor.report(dial_id, "answered")

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(answer(d)) for d in dial_ids]
        answers = [t.result() for t in tasks]
        bridged = Counter(r.json()["agent_id"] for r in answers if r.status_code == 200)
        refused = [r.json()["code"] for r in answers if r.status_code != 200]
        assert set(bridged) == {user_id for user_id, _ in agents}
        assert max(bridged.values()) == 1
        assert refused == ["no_agent_ready"] * BRIDGED
        states = await floor.session.scalars(select(AgentStateRow.state))
        assert set(states) == {AgentState.on_call.value}
