"""The world plus a user with the correction permission, and helpers the correction and
report-flag tests share."""

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from shared.models import Correction, Event, Membership, Permission, User
from tests.api.world import World
from tests.factories import create_user

CORRECTOR = [Permission.customer_handling.value, Permission.correction.value]


@dataclass
class Desk:
    world: World
    corrector: tuple[User, str]

    @property
    def agent_ids(self) -> list[int]:
        return [user.id for user, _ in self.world.agents]

    async def call(
        self, method: str, path: str, token: str | None = None, **body: Any
    ) -> httpx.Response:
        headers = self.world.auth(token or self.corrector[1])
        return await self.world.client.request(
            method, path, json=body if method != "GET" else None, headers=headers
        )

    async def send(self, customer_id: int, token: str | None = None, **body: Any) -> httpx.Response:
        values: dict[str, Any] = {
            "owner_user_id": self.agent_ids[1],
            "reason": "Wrong outcome on the call",
            "allowed_outcomes": ["sale", "interested"],
        }
        values.update(body)
        return await self.call("POST", f"/v1/customers/{customer_id}/corrections", token, **values)

    async def correct(self, event_id: int, token: str | None = None, **body: Any) -> httpx.Response:
        return await self.call("POST", f"/v1/events/{event_id}/correct", token, **body)

    async def outcome(self, code: str, agent: int = 0, **body: Any) -> tuple[int, int]:
        """An agent takes the next customer and registers `code`: (customer id, event id)."""
        card = (await self.world.next(agent=agent)).json()
        r = await self.world.post(
            f"/v1/customers/{card['customer']['id']}/outcomes",
            agent=agent,
            lease_id=card["lease"]["id"],
            version=card["membership"]["version"],
            code=code,
            **body,
        )
        assert r.status_code == 200, r.text
        return card["customer"]["id"], r.json()["event_id"]

    async def membership(self, customer_id: int) -> Membership:
        found = await self.world.session.scalar(
            select(Membership)
            .where(Membership.customer_id == customer_id)
            .execution_options(populate_existing=True)
        )
        assert found is not None
        return found

    async def event(self, event_id: int) -> Event:
        found = await self.world.session.scalar(
            select(Event).where(Event.id == event_id).execution_options(populate_existing=True)
        )
        assert found is not None
        return found

    async def events(self, customer_id: int, kind: str | None = None) -> list[Event]:
        query = select(Event).where(Event.customer_id == customer_id).order_by(Event.id)
        if kind is not None:
            query = query.where(Event.kind == kind)
        return list(
            await self.world.session.scalars(query.execution_options(populate_existing=True))
        )

    async def count(self, model: type[Event] | type[Correction]) -> int:
        return int(await self.world.session.scalar(select(func.count()).select_from(model)) or 0)

    async def add_event(self, customer_id: int, **values: Any) -> Event:
        """History written straight to the database, for cases the agent path cannot make."""
        defaults: dict[str, Any] = {
            "tenant_id": self.world.tenant.id,
            "assignment_id": self.world.assignment.id,
            "user_id": self.agent_ids[0],
            "kind": "outcome",
        }
        event = Event(customer_id=customer_id, **(defaults | values))
        self.world.session.add(event)
        await self.world.session.commit()
        return event


@pytest.fixture
async def desk(world: World) -> Desk:
    user = await create_user(world.session, world.tenant, name="Corrector", permissions=CORRECTOR)
    return Desk(world, user)
