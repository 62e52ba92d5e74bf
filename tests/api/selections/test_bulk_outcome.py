"""Outcomes on offer for a selection, and bulk outcome all or nothing (rule 28)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from services.queue import AssignmentQueue
from shared.models import CORRECTION_STATE, Event, Membership
from tests.api.selections.helpers import post, setup_token, snapshot
from tests.api.world import World
from tests.factories import create_assignment, create_flow, create_tenant, place_all


async def _free_and_interested(world: World) -> list[int]:
    """Three free customers and one in the progressive state 'interested'."""
    c = await world.customers([{}, {}, {}, {}])
    await world.session.execute(
        update(Membership).where(Membership.customer_id == c[3].id).values(state="interested")
    )
    await world.session.commit()
    await place_all(world.session, world.redis, world.assignment)
    return [x.id for x in c]


def _all(world: World) -> dict[str, int]:
    return {"assignment_id": world.assignment.id}


class TestOffered:
    async def test_only_outcomes_valid_from_every_state(self, world: World) -> None:
        await _free_and_interested(world)
        r = await post(world, "/v1/selections/outcomes", world.supervisor[1], _all(world))
        assert r.status_code == 200, r.text
        codes = [o["code"] for o in r.json()["outcomes"]]
        # 'interested' is allowed from free only: one interested customer rules it out.
        assert codes == ["sale", "not_interested", "wrong_number"]
        assert r.json()["count"] == 4 and r.json()["reason"] is None
        sale = r.json()["outcomes"][0]
        assert (sale["to_state"], sale["follow_up_time_required"]) == ("sale", False)

        only_free = await post(
            world,
            "/v1/selections/outcomes",
            world.supervisor[1],
            {**_all(world), "states": ["free"]},
        )
        first = only_free.json()["outcomes"][0]
        assert (first["code"], first["follow_up"], first["follow_up_time_required"]) == (
            "interested",
            "personal",
            True,
        )

    async def test_empty_selection_offers_nothing(self, world: World) -> None:
        await _free_and_interested(world)
        token = await setup_token(world)
        r = await post(world, "/v1/selections/outcomes", token, {**_all(world), "states": ["x"]})
        assert (r.json()["count"], r.json()["outcomes"]) == (0, [])
        assert r.json()["reason"] == "the selection is empty"

    async def test_a_customer_in_correction_offers_nothing(self, world: World) -> None:
        ids = await _free_and_interested(world)
        await world.session.execute(
            update(Membership)
            .where(Membership.customer_id == ids[0])
            .values(state=CORRECTION_STATE)
        )
        await world.session.commit()
        r = await post(world, "/v1/selections/outcomes", world.supervisor[1], _all(world))
        assert r.json()["outcomes"] == []
        assert CORRECTION_STATE in r.json()["reason"]
        forced = await post(
            world,
            "/v1/bulk-outcomes",
            world.supervisor[1],
            {"selection": _all(world), "code": "sale"},
        )
        assert forced.status_code == 422
        assert forced.json()["states"] == [CORRECTION_STATE]

    async def test_agents_may_not_see_them(self, world: World) -> None:
        r = await post(world, "/v1/selections/outcomes", world.agents[0][1], _all(world))
        assert r.status_code == 403


class TestBulkOutcome:
    async def test_applies_to_everyone_with_events_and_queue(self, world: World) -> None:
        ids = await _free_and_interested(world)
        r = await post(
            world,
            "/v1/bulk-outcomes",
            world.supervisor[1],
            {
                "selection": _all(world),
                "code": "not_interested",
                "comment": "list closed",
                "expected_count": 4,
            },
        )
        assert r.status_code == 200, r.text
        assert r.json() == {"code": "not_interested", "count": 4}
        rows = (
            await world.session.execute(
                select(
                    Membership.state,
                    Membership.state_set_by,
                    Membership.state_set_by_user_id,
                    Membership.version,
                )
            )
        ).all()
        assert {tuple(row) for row in rows} == {
            ("not_interested", "bulk", world.supervisor[0].id, 2)
        }
        events = list(await world.session.scalars(select(Event).order_by(Event.customer_id)))
        assert [e.customer_id for e in events] == ids
        assert {(e.kind, e.code, e.comment, e.user_id) for e in events} == {
            ("outcome", "not_interested", "list closed", world.supervisor[0].id)
        }
        assert [e.from_state for e in events] == ["free", "free", "free", "interested"]
        assert all(e.data == {"bulk": True} for e in events)
        # Final now: the queue serves none of them.
        assert (await world.next()).json()["status"] == "empty"

    async def test_outcome_with_a_follow_up_time(self, world: World) -> None:
        ids = await _free_and_interested(world)
        at = datetime.now(UTC) + timedelta(days=1)
        body = {"selection": {**_all(world), "states": ["free"]}, "code": "interested"}
        missing = await post(world, "/v1/bulk-outcomes", world.supervisor[1], body)
        assert missing.status_code == 422 and "follow-up time" in missing.json()["detail"]
        r = await post(
            world,
            "/v1/bulk-outcomes",
            world.supervisor[1],
            {**body, "follow_up_at": at.isoformat()},
        )
        assert r.status_code == 200, r.text
        owner = await world.session.scalar(
            select(Membership.followup_owner_id).where(Membership.customer_id == ids[0])
        )
        assert owner == world.supervisor[0].id
        placement = await AssignmentQueue(world.redis, world.assignment.id).placement_of(ids[0])
        assert placement is not None and placement.kind == "pfu"

    async def test_forcing_an_outcome_not_offered_is_422_and_changes_nothing(
        self, world: World
    ) -> None:
        await _free_and_interested(world)
        before = await snapshot(world)
        r = await post(
            world,
            "/v1/bulk-outcomes",
            world.supervisor[1],
            {
                "selection": _all(world),
                "code": "interested",
                "follow_up_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
            },
        )
        assert r.status_code == 422
        assert r.json()["states"] == ["interested"]
        assert "interested" in r.json()["detail"]
        assert await snapshot(world) == before

    async def test_unknown_code_and_empty_selection_are_422(self, world: World) -> None:
        await _free_and_interested(world)
        before = await snapshot(world)
        unknown = await post(
            world, "/v1/bulk-outcomes", world.supervisor[1], {"selection": _all(world), "code": "x"}
        )
        assert unknown.status_code == 422 and "unknown outcome" in unknown.json()["detail"]
        empty = await post(
            world,
            "/v1/bulk-outcomes",
            world.supervisor[1],
            {"selection": {**_all(world), "attempts_min": 9}, "code": "sale"},
        )
        assert empty.status_code == 422 and "empty" in empty.json()["detail"]
        assert await snapshot(world) == before

    async def test_a_held_customer_is_409_and_changes_nothing(self, world: World) -> None:
        await _free_and_interested(world)
        card = (await world.next(agent=1)).json()
        held = card["customer"]["id"]
        before = await snapshot(world)
        r = await post(
            world,
            "/v1/bulk-outcomes",
            world.supervisor[1],
            {"selection": _all(world), "code": "sale"},
        )
        assert r.status_code == 409
        assert r.json()["held"] == [{"customer_id": held, "user_id": world.agents[1][0].id}]
        assert await snapshot(world) == before
        # The holder can still write what it was going to.
        w = await world.post(
            f"/v1/customers/{held}/outcomes",
            agent=1,
            lease_id=card["lease"]["id"],
            version=card["membership"]["version"],
            code="wrong_number",
        )
        assert w.status_code == 200, w.text

    async def test_a_different_count_than_seen_is_409(self, world: World) -> None:
        await _free_and_interested(world)
        before = await snapshot(world)
        r = await post(
            world,
            "/v1/bulk-outcomes",
            world.supervisor[1],
            {"selection": _all(world), "code": "sale", "expected_count": 3},
        )
        assert r.status_code == 409 and r.json()["count"] == 4
        assert await snapshot(world) == before

    async def test_without_extended_handling_is_403_and_changes_nothing(self, world: World) -> None:
        await _free_and_interested(world)
        before = await snapshot(world)
        body = {"selection": _all(world), "code": "sale"}
        assert (await post(world, "/v1/bulk-outcomes", world.agents[0][1], body)).status_code == 403
        setup = await post(world, "/v1/bulk-outcomes", await setup_token(world), body)
        assert setup.status_code == 403 and "extended_handling" in setup.json()["detail"]
        assert await snapshot(world) == before

    async def test_another_tenants_assignment_is_404(self, world: World) -> None:
        await _free_and_interested(world)
        other = await create_tenant(world.session, name="Other")
        theirs = await create_assignment(
            world.session, other, await create_flow(world.session, other)
        )
        r = await post(
            world,
            "/v1/bulk-outcomes",
            world.supervisor[1],
            {"selection": {"assignment_id": theirs.id}, "code": "sale"},
        )
        assert r.status_code == 404
        r = await post(
            world, "/v1/selections/outcomes", world.supervisor[1], {"assignment_id": theirs.id}
        )
        assert r.status_code == 404
