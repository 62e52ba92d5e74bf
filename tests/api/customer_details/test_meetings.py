"""Cancelling a booked meeting marks it and records an event; nothing is deleted (rule 24)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from shared.models import Event, Meeting
from tests.api.world import World
from tests.factories import create_tenant, create_user


async def _meeting(world: World) -> tuple[int, int]:
    (c,) = await world.customers([{}])
    meeting = Meeting(
        tenant_id=world.tenant.id,
        customer_id=c.id,
        assignment_id=world.assignment.id,
        starts_at=datetime.now(UTC) + timedelta(days=2),
    )
    world.session.add(meeting)
    await world.session.commit()
    return c.id, meeting.id


class TestCancelMeeting:
    async def test_marks_it_keeps_it_and_records_the_change(self, world: World) -> None:
        customer_id, meeting_id = await _meeting(world)
        r = await world.post(f"/v1/customers/{customer_id}/meetings/{meeting_id}/cancel")
        assert r.status_code == 200, r.text
        (shown,) = r.json()["meetings"]
        assert shown["cancelled"] is True
        kinds = await world.session.scalars(
            select(Event.kind).where(Event.customer_id == customer_id)
        )
        assert "meeting_cancelled" in list(kinds)
        again = await world.post(f"/v1/customers/{customer_id}/meetings/{meeting_id}/cancel")
        assert again.status_code == 409
        assert await world.session.scalar(select(func.count()).select_from(Meeting)) == 1

    async def test_another_tenants_meeting_is_not_found(self, world: World) -> None:
        customer_id, meeting_id = await _meeting(world)
        other = await create_tenant(world.session, name="Other")
        _, token = await create_user(world.session, other)
        r = await world.client.post(
            f"/v1/customers/{customer_id}/meetings/{meeting_id}/cancel",
            headers=world.auth(token),
        )
        assert r.status_code == 404
        meeting = await world.session.get(Meeting, meeting_id, populate_existing=True)
        assert meeting is not None and meeting.cancelled_at is None
