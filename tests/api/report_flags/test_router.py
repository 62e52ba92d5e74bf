"""Report flags (rule 27): exclude an event, or count it for another user or time."""

from datetime import UTC, datetime
from typing import Any

import httpx

from shared.models import Event, Permission
from tests.api.corrections.desk import Desk
from tests.factories import create_tenant, create_user


async def _patch(
    desk: Desk, event_id: int, token: str | None = None, **body: Any
) -> httpx.Response:
    return await desk.call("PATCH", f"/v1/events/{event_id}/report", token, **body)


async def _outcome(desk: Desk) -> tuple[int, int]:
    await desk.world.customers([{}])
    return await desk.outcome("sale", agent=0)


class TestFlags:
    async def test_excluded_stays_in_the_history(self, desk: Desk) -> None:
        customer_id, event_id = await _outcome(desk)
        r = await _patch(desk, event_id, excluded=True)
        assert r.status_code == 200, r.text
        assert r.json()["excluded_from_reports"] is True
        event = await desk.event(event_id)
        assert event.excluded_from_reports is True
        history = await desk.events(customer_id)
        assert [e.kind for e in history] == ["outcome", "report_flags_changed"]
        change = history[1]
        assert change.id == r.json()["change_event_id"]
        assert change.user_id == desk.corrector[0].id
        assert change.data["event_id"] == event_id
        assert change.data["before"]["excluded_from_reports"] is False
        assert change.data["after"]["excluded_from_reports"] is True
        # And back in.
        back = await _patch(desk, event_id, excluded=False)
        assert back.json()["excluded_from_reports"] is False

    async def test_counted_for_another_user_and_time_then_reset(self, desk: Desk) -> None:
        _, event_id = await _outcome(desk)
        then = datetime(2024, 5, 2, 8, 0, tzinfo=UTC)
        r = await _patch(
            desk, event_id, report_user_id=desk.agent_ids[2], report_at=then.isoformat()
        )
        assert r.status_code == 200, r.text
        event = await desk.event(event_id)
        assert (event.report_user_id, event.report_at, event.excluded_from_reports) == (
            desk.agent_ids[2],
            then,
            False,
        )
        # Only what is sent changes; null puts the event's own user back.
        r = await _patch(desk, event_id, report_user_id=None)
        event = await desk.event(event_id)
        assert (event.report_user_id, event.report_at) == (None, then)
        changes = await desk.events(event.customer_id, "report_flags_changed")
        assert changes[-1].data["before"]["report_user_id"] == desk.agent_ids[2]
        assert changes[-1].data["after"]["report_user_id"] is None

    async def test_no_change_writes_no_event(self, desk: Desk) -> None:
        customer_id, event_id = await _outcome(desk)
        r = await _patch(desk, event_id, excluded=False)
        assert r.status_code == 200 and r.json()["change_event_id"] is None
        assert await desk.events(customer_id, "report_flags_changed") == []

    async def test_administrator_passes(self, desk: Desk) -> None:
        _, event_id = await _outcome(desk)
        _, token = await create_user(
            desk.world.session, desk.world.tenant, permissions=[Permission.administrator.value]
        )
        assert (await _patch(desk, event_id, token, excluded=True)).status_code == 200


class TestRefused:
    async def test_without_the_permission_403_and_nothing_changes(self, desk: Desk) -> None:
        world = desk.world
        customer_id, event_id = await _outcome(desk)
        _, reporter = await create_user(
            world.session, world.tenant, permissions=[Permission.reporting.value]
        )
        for token in (reporter, world.agents[0][1]):
            r = await _patch(desk, event_id, token, excluded=True)
            assert r.status_code == 403
        assert (await desk.event(event_id)).excluded_from_reports is False
        assert len(await desk.events(customer_id)) == 1

    async def test_another_tenants_event_is_not_found(self, desk: Desk) -> None:
        world = desk.world
        _, event_id = await _outcome(desk)
        other = await create_tenant(world.session, name="Other")
        _, token = await create_user(
            world.session, other, permissions=[Permission.correction.value]
        )
        assert (await _patch(desk, event_id, token, excluded=True)).status_code == 404
        assert (await desk.event(event_id)).excluded_from_reports is False
        assert (await _patch(desk, 424242, excluded=True)).status_code == 404

    async def test_report_user_must_be_an_active_user_here(self, desk: Desk) -> None:
        world = desk.world
        _, event_id = await _outcome(desk)
        other = await create_tenant(world.session, name="Other")
        stranger, _ = await create_user(world.session, other)
        r = await _patch(desk, event_id, report_user_id=stranger.id, excluded=True)
        assert r.status_code == 422
        world.agents[2][0].active = False
        await world.session.commit()
        assert (await _patch(desk, event_id, report_user_id=desk.agent_ids[2])).status_code == 422
        event = await desk.event(event_id)
        assert (event.report_user_id, event.excluded_from_reports) == (None, False)
        assert await desk.count(Event) == 1

    async def test_an_empty_change_is_refused(self, desk: Desk) -> None:
        _, event_id = await _outcome(desk)
        assert (await _patch(desk, event_id)).status_code == 422
        assert (await _patch(desk, event_id, excluded=None)).status_code == 422
