"""A care organisation: an intake employee, relationship managers by service and region, a
team lead, an agent outside the pipeline, a catalogue; a settable clock; another tenant."""

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.pipeline.access import current_time
from services.queue import streams
from shared.infra.tokens import hash_token, new_token
from shared.models import (
    ApiToken,
    Permission,
    PipelineService,
    PipelineServiceMember,
    Tenant,
    User,
)
from shared.pipeline.store import service_search_text

REGISTER = Permission.pipeline_register.value
MANAGE = Permission.pipeline_manage.value
ADMIN = Permission.pipeline_admin.value
START = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
_numbers = itertools.count(1)

PEOPLE: dict[str, list[str]] = {
    "intake": [REGISTER],
    "ann": [REGISTER, MANAGE, Permission.customer_handling.value],
    "bob": [REGISTER, MANAGE],
    "cat": [MANAGE],
    "lead": [ADMIN],
    "agent": [Permission.customer_handling.value],
    "admin": [Permission.administrator.value],
}


@dataclass
class Clock:
    now: datetime = START

    def advance(self, by: timedelta) -> None:
        self.now += by


@dataclass
class Care:
    client: httpx.AsyncClient
    redis: Redis
    tenant: Tenant
    users: dict[str, User]
    tokens: dict[str, str]
    clock: Clock
    services: dict[str, int] = field(default_factory=dict)

    def id(self, who: str) -> int:
        return self.users[who].id

    def auth(self, who: str, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}", **headers}

    async def get(self, path: str, who: str = "ann", **params: Any) -> httpx.Response:
        return await self.client.get(f"/v1/pipeline{path}", params=params, headers=self.auth(who))

    async def post(self, path: str, body: Any, who: str = "ann") -> httpx.Response:
        return await self.client.post(f"/v1/pipeline{path}", json=body, headers=self.auth(who))

    async def patch(self, path: str, body: Any, who: str = "ann") -> httpx.Response:
        return await self.client.patch(f"/v1/pipeline{path}", json=body, headers=self.auth(who))

    async def delete(self, path: str, who: str = "ann") -> httpx.Response:
        return await self.client.delete(f"/v1/pipeline{path}", headers=self.auth(who))

    async def register(self, who: str = "ann", **body: Any) -> dict[str, Any]:
        """A request from a prospect calling for themselves, with a new profile."""
        n = next(_numbers)
        values: dict[str, Any] = {
            "kind": "service",
            "caller": "prospect",
            "prospect": {"new": profile(f"Prospect{n}", email=f"prospect{n}@example.org")},
        }
        values.update(body)
        r = await self.post("/requests", values, who=who)
        assert r.status_code == 201, r.text
        found: dict[str, Any] = r.json()
        return found

    async def told(self, who: str) -> list[dict[str, Any]]:
        """What the user's live stream holds (type and data of each entry)."""
        key = streams.user_stream(self.id(who))
        entries = await streams.read(self.redis, key, after="0-0", block_ms=1)
        return [{"type": e.type, **json.loads(e.data)} for e in entries]


def profile(first: str, last: str = "Dubois", **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "first_name": first,
        "last_name": last,
        "language": "fr",
        "role": "private_person",
        "city": "Antwerpen",
    }
    values.update(fields)
    return values


def _service(tenant: Tenant, name: str, region: str) -> PipelineService:
    return PipelineService(
        tenant_id=tenant.id,
        kind="service",
        name=name,
        department="Home care",
        region=region,
        search_text=service_search_text(name, "Home care", region),
    )


async def make_care(
    client: httpx.AsyncClient, session: AsyncSession, redis: Redis, clock: Clock, *, name: str
) -> Care:
    """The whole organisation in one transaction (a commit per user would cost more than
    most of the tests)."""
    tenant = Tenant(name=name)
    session.add(tenant)
    await session.flush()
    users = {
        who: User(tenant_id=tenant.id, name=f"{who.title()} {name}", permissions=granted)
        for who, granted in PEOPLE.items()
    }
    services = {"antwerp": _service(tenant, "Home nursing", "Antwerp")}
    services["ghent"] = _service(tenant, "Home nursing", "Ghent")
    session.add_all([*users.values(), *services.values()])
    await session.flush()
    tokens = {who: new_token() for who in users}
    session.add_all(
        ApiToken(tenant_id=tenant.id, user_id=users[who].id, token_hash=hash_token(token))
        for who, token in tokens.items()
    )
    for region, who in (("antwerp", "ann"), ("ghent", "bob")):
        session.add(
            PipelineServiceMember(
                tenant_id=tenant.id, service_id=services[region].id, user_id=users[who].id
            )
        )
    await session.commit()
    care = Care(client, redis, tenant, users, tokens, clock)
    care.services = {region: service.id for region, service in services.items()}
    return care


@pytest.fixture
def clock(app: FastAPI) -> Iterator[Clock]:
    """The pipeline's time, set by the test: delegations start and end without waiting."""
    found = Clock()
    app.dependency_overrides[current_time] = lambda: found.now
    yield found
    app.dependency_overrides.pop(current_time, None)


@pytest.fixture
async def care(
    client: httpx.AsyncClient, session: AsyncSession, redis: Redis, clock: Clock
) -> Care:
    return await make_care(client, session, redis, clock, name="Zorg")


@pytest.fixture
async def other(
    client: httpx.AsyncClient, session: AsyncSession, redis: Redis, clock: Clock
) -> Care:
    return await make_care(client, session, redis, clock, name="Other")
