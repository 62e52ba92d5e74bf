"""Calling rules at /next (rule 33), on real PostgreSQL and Redis, at given local times.

The API's clock (`Resources.clock`) is set to the instant under test: /next decides at it and
claims with it, nothing sleeps.
"""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from shared.calling.rules import PRESETS
from shared.models import Event
from tests.api.world import World

OSLO, PARIS = ZoneInfo("Europe/Oslo"), ZoneInfo("Europe/Paris")
OSLO_PHONE, PARIS_PHONE = "+4791234567", "+33612345678"


def at(app: FastAPI, moment: datetime) -> None:
    app.state.resources.clock = lambda: moment


async def outside_hours_until(world: World, opens: datetime) -> None:
    """/next answers empty: one customer outside calling hours, eligible at `opens`."""
    empty = (await world.next()).json()
    assert (empty["status"], empty["reasons"]["outside_hours"]) == ("empty", 1)
    assert datetime.fromisoformat(empty["next_eligible_at"]) == opens


async def with_rules(world: World, name: str, **settings: Any) -> None:
    world.assignment.calling_rules = dict(PRESETS[name])
    for key, value in settings.items():
        setattr(world.assignment, key, value)
    await world.session.commit()


class TestNorway:
    @pytest.fixture(autouse=True)
    async def oslo_customer(self, world: World) -> None:
        await with_rules(world, "NO")
        await world.customers([{"phone_1": OSLO_PHONE}])

    async def test_not_served_at_08_59_served_at_09_00(self, world: World, app: FastAPI) -> None:
        at(app, datetime(2027, 6, 10, 8, 59, tzinfo=OSLO))
        await outside_hours_until(world, datetime(2027, 6, 10, 9, 0, tzinfo=OSLO))
        at(app, datetime(2027, 6, 10, 9, 0, tzinfo=OSLO))
        assert (await world.next()).json()["status"] == "claimed"

    @pytest.mark.parametrize(
        ("closed", "opens"),
        [
            (datetime(2028, 5, 17, 12, 0, tzinfo=OSLO), datetime(2028, 5, 18, 9, 0, tzinfo=OSLO)),
            (datetime(2027, 3, 29, 12, 0, tzinfo=OSLO), datetime(2027, 3, 30, 9, 0, tzinfo=OSLO)),
            (datetime(2027, 6, 12, 12, 0, tzinfo=OSLO), datetime(2027, 6, 14, 9, 0, tzinfo=OSLO)),
        ],
        ids=["17 May", "Easter Monday", "Saturday"],
    )
    async def test_not_served_on_holidays_or_saturdays(
        self, world: World, app: FastAPI, closed: datetime, opens: datetime
    ) -> None:
        at(app, closed)
        await outside_hours_until(world, opens)

    async def test_the_tenants_closed_day_holds_too(self, world: World, app: FastAPI) -> None:
        world.tenant.closed_days = ["2027-06-10"]
        await world.session.commit()
        at(app, datetime(2027, 6, 10, 12, 0, tzinfo=OSLO))
        assert (await world.next()).json()["status"] == "empty"


class TestFrance:
    async def test_a_paris_customer_follows_the_french_preset(
        self, world: World, app: FastAPI
    ) -> None:
        await with_rules(world, "FR")
        await world.customers([{"phone_1": PARIS_PHONE}])
        at(app, datetime(2027, 6, 10, 13, 30, tzinfo=PARIS))
        await outside_hours_until(world, datetime(2027, 6, 10, 14, 0, tzinfo=PARIS))
        at(app, datetime(2027, 6, 10, 14, 0, tzinfo=PARIS))
        assert (await world.next()).json()["status"] == "claimed"


class TestPromisedCallBacks:
    async def promise_at_21_30(self, world: World, app: FastAPI) -> dict[str, Any]:
        await world.customers([{"phone_1": OSLO_PHONE}])
        at(app, datetime(2027, 6, 10, 20, 0, tzinfo=OSLO))
        card = (await world.next()).json()
        r = await world.post(
            f"/v1/customers/{card['customer']['id']}/attempts",
            lease_id=card["lease"]["id"],
            version=card["membership"]["version"],
            kind="call_back_later",
            at=datetime(2027, 6, 10, 21, 30, tzinfo=OSLO).isoformat(),
        )
        assert r.status_code == 200, r.text
        at(app, datetime(2027, 6, 10, 21, 31, tzinfo=OSLO))
        event = await world.session.scalar(
            select(Event)
            .where(Event.customer_id == card["customer"]["id"])
            .order_by(Event.id.desc())
            .limit(1)
        )
        assert event is not None
        return event.data

    async def test_held_until_the_next_allowed_time(self, world: World, app: FastAPI) -> None:
        await with_rules(world, "NO")
        data = await self.promise_at_21_30(world, app)
        morning = datetime(2027, 6, 11, 9, 0, tzinfo=OSLO)
        note = data["calling_rules"]
        assert (note["outside"], datetime.fromisoformat(note["held_until"])) == (True, morning)
        empty = (await world.next()).json()
        assert (empty["status"], empty["reasons"]["waiting_followups"]) == ("empty", 1)
        assert datetime.fromisoformat(empty["next_eligible_at"]) == morning
        at(app, morning)
        card = (await world.next()).json()
        assert (card["status"], card["source"]) == ("claimed", "shared_followup")

    async def test_served_at_its_time_when_the_assignment_allows_it(
        self, world: World, app: FastAPI
    ) -> None:
        await with_rules(world, "NO", callbacks_break_rules=True)
        data = await self.promise_at_21_30(world, app)
        assert data["calling_rules"]["reason"].startswith("the assignment lets promised call-backs")
        card = (await world.next()).json()
        assert (card["status"], card["source"]) == ("claimed", "shared_followup")
