"""Correct yourself (rule 26b): the right outcome in place of an earlier one."""

from datetime import UTC, datetime, timedelta

from shared.models import Event, Permission
from tests.api.corrections.desk import Desk
from tests.factories import create_tenant, create_user


class TestCorrect:
    async def test_as_original_user_counts_for_them_at_their_time(self, desk: Desk) -> None:
        await desk.world.customers([{}])
        customer_id, old_id = await desk.outcome("not_interested", agent=0)
        before = await desk.membership(customer_id)
        r = await desk.correct(old_id, code="sale", count_as="original", comment="x")
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["state_changed"] is True
        assert body["membership"]["state"] == "sale"
        assert body["membership"]["version"] == before.version + 1
        old = await desk.event(old_id)
        new = await desk.event(body["event_id"])
        # The old one stays in the history, marked corrected; the new one points back.
        assert old.corrected_by_event_id == new.id and old.code == "not_interested"
        assert (new.kind, new.code, new.corrects_event_id) == ("outcome", "sale", old_id)
        assert (new.from_state, new.to_state) == ("free", "sale")
        assert new.data["correction_of"] == old_id
        assert new.user_id == desk.corrector[0].id
        assert (new.report_user_id, new.report_at) == (desk.agent_ids[0], old.created_at)
        m = await desk.membership(customer_id)
        assert (m.state, m.state_set_by, m.state_set_by_user_id) == (
            "sale",
            "correction",
            desk.corrector[0].id,
        )

    async def test_as_me_counts_for_the_caller_now(self, desk: Desk) -> None:
        await desk.world.customers([{}])
        _, old_id = await desk.outcome("not_interested")
        r = await desk.correct(old_id, code="sale", count_as="me")
        assert r.status_code == 201, r.text
        new = await desk.event(r.json()["event_id"])
        assert (new.user_id, new.report_user_id, new.report_at) == (
            desk.corrector[0].id,
            None,
            None,
        )

    async def test_original_follows_an_earlier_reattribution(self, desk: Desk) -> None:
        await desk.world.customers([{}])
        _, old_id = await desk.outcome("not_interested")
        old = await desk.event(old_id)
        then = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
        old.report_user_id, old.report_at = desk.agent_ids[2], then
        await desk.world.session.commit()
        r = await desk.correct(old_id, code="sale", count_as="original")
        new = await desk.event(r.json()["event_id"])
        assert (new.report_user_id, new.report_at) == (desk.agent_ids[2], then)

    async def test_later_state_changes_keep_the_state(self, desk: Desk) -> None:
        c = await desk.world.customers([{}], state="not_interested")
        first = await desk.add_event(
            c[0].id, code="interested", from_state="free", to_state="interested"
        )
        latest = await desk.add_event(
            c[0].id, code="not_interested", from_state="interested", to_state="not_interested"
        )
        r = await desk.correct(first.id, code="sale", count_as="me")
        assert r.status_code == 201, r.text
        assert (r.json()["state_changed"], r.json()["membership"]) == (False, None)
        assert (await desk.membership(c[0].id)).state == "not_interested"
        assert (await desk.event(first.id)).corrected_by_event_id == r.json()["event_id"]
        # The latest one does move the state.
        r = await desk.correct(latest.id, code="sale", count_as="me")
        assert r.json()["state_changed"] is True
        assert (await desk.membership(c[0].id)).state == "sale"

    async def test_a_follow_up_the_new_outcome_asks_for(self, desk: Desk) -> None:
        await desk.world.customers([{}])
        customer_id, old_id = await desk.outcome("not_interested")
        r = await desk.correct(old_id, code="interested", count_as="me")
        assert r.status_code == 422  # interested needs a follow-up time
        at = datetime.now(UTC) + timedelta(days=1)
        r = await desk.correct(
            old_id,
            code="interested",
            count_as="me",
            follow_up_at=at.isoformat(),
            follow_up_owner_id=desk.agent_ids[0],
        )
        assert r.status_code == 201, r.text
        m = await desk.membership(customer_id)
        assert (m.state, m.followup_kind, m.followup_owner_id) == (
            "interested",
            "personal",
            desk.agent_ids[0],
        )


class TestRefused:
    async def test_without_the_permission_403_and_nothing_changes(self, desk: Desk) -> None:
        world = desk.world
        await world.customers([{}])
        customer_id, old_id = await desk.outcome("not_interested")
        r = await desk.correct(old_id, world.supervisor[1], code="sale", count_as="me")
        assert r.status_code == 403
        assert (await desk.event(old_id)).corrected_by_event_id is None
        assert len(await desk.events(customer_id)) == 1
        assert (await desk.membership(customer_id)).state == "not_interested"

    async def test_another_tenants_event_is_not_found(self, desk: Desk) -> None:
        world = desk.world
        await world.customers([{}])
        _, old_id = await desk.outcome("not_interested")
        other = await create_tenant(world.session, name="Other")
        _, token = await create_user(
            world.session, other, permissions=[Permission.correction.value]
        )
        r = await desk.correct(old_id, token, code="sale", count_as="me")
        assert r.status_code == 404
        assert (await desk.event(old_id)).corrected_by_event_id is None

    async def test_twice_is_a_conflict(self, desk: Desk) -> None:
        await desk.world.customers([{}])
        customer_id, old_id = await desk.outcome("not_interested")
        ok = await desk.correct(old_id, code="sale", count_as="me")
        assert ok.status_code == 201
        again = await desk.correct(old_id, code="wrong_number", count_as="me")
        assert again.status_code == 409
        assert (await desk.membership(customer_id)).state == "sale"

    async def test_only_outcomes_allowed_from_the_old_from_state(self, desk: Desk) -> None:
        c = await desk.world.customers([{}], state="sale")
        old = await desk.add_event(c[0].id, code="sale", from_state="interested", to_state="sale")
        # "interested" is allowed only from "free".
        r = await desk.correct(old.id, code="interested", count_as="me")
        assert r.status_code == 422
        assert "interested" in r.json()["detail"]
        r = await desk.correct(old.id, code="teleport", count_as="me")
        assert r.status_code == 422
        assert (await desk.event(old.id)).corrected_by_event_id is None

    async def test_only_outcome_events(self, desk: Desk) -> None:
        c = await desk.world.customers([{}])
        attempt = await desk.add_event(c[0].id, kind="attempt", code="no_answer")
        r = await desk.correct(attempt.id, code="sale", count_as="me")
        assert r.status_code == 422

    async def test_a_held_customer_is_refused(self, desk: Desk) -> None:
        world = desk.world
        c = await world.customers([{}], state="interested")
        old = await desk.add_event(
            c[0].id, code="interested", from_state="free", to_state="interested"
        )
        selected = await world.post(f"/v1/customers/{c[0].id}/select", agent=2)
        assert selected.status_code == 200, selected.text
        r = await desk.correct(old.id, code="sale", count_as="me")
        assert r.status_code == 409
        assert r.json()["holder"]["id"] == desk.agent_ids[2]
        assert (await desk.membership(c[0].id)).state == "interested"
        assert await desk.count(Event) == 1
