"""The work world plus a reporter, a reporter with the revenue permission, and helpers that
write events and products directly, as the work endpoints would have recorded them."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest

from shared.models import Customer, Event, Permission, Product, User
from tests.api.world import World, world
from tests.factories import create_user

__all__ = ["Reports", "reports", "world"]


@dataclass
class Reports:
    world: World
    reporter: tuple[User, str]
    revenue: tuple[User, str]
    customer: Customer

    def user(self, i: int) -> User:
        return self.world.agents[i][0]

    async def get(self, path: str, *, token: str | None = None, **params: Any) -> httpx.Response:
        return await self.world.client.get(
            path, params=params, headers=self.world.auth(token or self.reporter[1])
        )

    async def activity(self, *, token: str | None = None, **params: Any) -> dict[str, Any]:
        r = await self.get("/v1/reports/activity", token=token, **params)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def event(
        self,
        *,
        user: User | None,
        at: datetime,
        kind: str = "outcome",
        code: str | None = "sale",
        **kw: Any,
    ) -> Event:
        event = Event(
            tenant_id=self.world.tenant.id,
            customer_id=self.customer.id,
            assignment_id=kw.pop("assignment_id", self.world.assignment.id),
            user_id=user.id if user is not None else None,
            kind=kind,
            code=code,
            created_at=at,
            **kw,
        )
        self.world.session.add(event)
        await self.world.session.commit()
        return event

    async def product(self, *, event: Event | None, **kw: Any) -> Product:
        values: dict[str, Any] = {
            "name": "Boat",
            "status": "sold",
            "quantity": 1,
            "amount_minor": 100_00,
            "currency": "NOK",
        }
        values.update(kw)
        product = Product(
            tenant_id=self.world.tenant.id,
            customer_id=self.customer.id,
            assignment_id=self.world.assignment.id,
            event_id=event.id if event is not None else None,
            user_id=event.user_id if event is not None else values.pop("user_id", None),
            **values,
        )
        self.world.session.add(product)
        await self.world.session.commit()
        return product


@pytest.fixture
async def reports(world: World) -> Reports:
    reporter = await create_user(
        world.session, world.tenant, name="Reporter", permissions=[Permission.reporting.value]
    )
    revenue = await create_user(
        world.session,
        world.tenant,
        name="Controller",
        permissions=[Permission.reporting.value, Permission.revenue.value],
    )
    customers = await world.customers([{"first_name": "Åse", "last_name": "Ødegård"}])
    return Reports(world, reporter, revenue, customers[0])
