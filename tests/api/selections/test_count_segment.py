"""Counting a selection and putting it into a segment (rule 28, segmentation)."""

from sqlalchemy import select, update

from shared.models import Event, Membership, Segment
from tests.api.selections.helpers import post, setup_token, snapshot
from tests.api.world import World
from tests.factories import create_assignment, create_flow, create_tenant, place_all


async def _mixed(world: World) -> list[int]:
    """Five customers: two free with e-mail, one free without, two interested."""
    c = await world.customers(
        [
            {"email": "a@x.no", "phone_1": "+4711111111"},
            {"email": "b@x.no"},
            {"email": None, "phone_1": "+4722222222"},
            {"email": "c@x.no", "custom": {"region": "north"}},
            {"email": "d@x.no", "custom": {"region": "south"}},
        ]
    )
    await world.session.execute(
        update(Membership)
        .where(Membership.customer_id.in_([c[3].id, c[4].id]))
        .values(state="interested", attempts=2)
    )
    await world.session.commit()
    await place_all(world.session, world.redis, world.assignment)
    return [x.id for x in c]


class TestCount:
    async def test_counts_per_state_and_segment_at_once(self, world: World) -> None:
        await _mixed(world)
        token = await setup_token(world)
        r = await post(world, "/v1/selections/count", token, {"assignment_id": world.assignment.id})
        assert r.status_code == 200, r.text
        assert r.json() == {
            "count": 5,
            "by_state": {"free": 3, "interested": 2},
            "by_segment": {"0": 5},
        }
        r = await post(
            world,
            "/v1/selections/count",
            token,
            {"assignment_id": world.assignment.id, "has_email": True, "attempts_max": 1},
        )
        assert r.json()["count"] == 2
        r = await post(
            world,
            "/v1/selections/count",
            token,
            {"assignment_id": world.assignment.id, "custom": {"region": "north"}},
        )
        assert r.json()["by_state"] == {"interested": 1}

    async def test_extended_handling_may_count_agents_may_not(self, world: World) -> None:
        await _mixed(world)
        body = {"assignment_id": world.assignment.id}
        extended = await post(world, "/v1/selections/count", world.supervisor[1], body)
        assert extended.status_code == 200 and extended.json()["count"] == 5
        agent = await post(world, "/v1/selections/count", world.agents[0][1], body)
        assert agent.status_code == 403
        assert "assignment_setup" in agent.json()["detail"]

    async def test_another_tenants_assignment_is_404(self, world: World) -> None:
        other = await create_tenant(world.session, name="Other")
        theirs = await create_assignment(
            world.session, other, await create_flow(world.session, other)
        )
        token = await setup_token(world)
        r = await post(world, "/v1/selections/count", token, {"assignment_id": theirs.id})
        assert r.status_code == 404


class TestSegment:
    async def test_new_segment_takes_the_selection_and_next_serves_it(self, world: World) -> None:
        ids = await _mixed(world)
        token = await setup_token(world)
        r = await post(
            world,
            "/v1/selections/segment",
            token,
            {
                "selection": {"assignment_id": world.assignment.id, "has_email": True},
                "name": "With e-mail",
            },
        )
        assert r.status_code == 200, r.text
        out = r.json()
        assert (out["name"], out["created"], out["count"], out["job"]) == (
            "With e-mail",
            True,
            4,
            None,
        )
        rows = dict(
            (
                await world.session.execute(select(Membership.customer_id, Membership.segment_id))
            ).all()
        )
        assert {cid for cid, seg in rows.items() if seg == out["segment_id"]} == {
            ids[0],
            ids[1],
            ids[3],
            ids[4],
        }
        # States are kept.
        states = dict(
            (await world.session.execute(select(Membership.customer_id, Membership.state))).all()
        )
        assert states[ids[3]] == "interested" and states[ids[0]] == "free"
        moved = await world.session.scalar(
            select(Event).where(Event.kind == "moved", Event.customer_id == ids[0])
        )
        assert moved is not None and moved.data["to_segment_id"] == out["segment_id"]
        # /next in that segment serves its free customers, and only them.
        served = set()
        for agent in range(3):
            card = (await world.next(agent=agent, segment_id=out["segment_id"])).json()
            if card["status"] != "empty":
                served.add(card["customer"]["id"])
        assert served == {ids[0], ids[1]}

    async def test_taken_name_is_409_whatever_its_case(self, world: World) -> None:
        await _mixed(world)
        world.session.add(
            Segment(tenant_id=world.tenant.id, assignment_id=world.assignment.id, name="Hot")
        )
        await world.session.commit()
        token = await setup_token(world)
        before = await snapshot(world)
        r = await post(
            world,
            "/v1/selections/segment",
            token,
            {"selection": {"assignment_id": world.assignment.id}, "name": "HOT"},
        )
        assert r.status_code == 409
        assert await snapshot(world) == before

    async def test_move_into_an_existing_segment(self, world: World) -> None:
        ids = await _mixed(world)
        segment = Segment(tenant_id=world.tenant.id, assignment_id=world.assignment.id, name="B")
        world.session.add(segment)
        await world.session.commit()
        token = await setup_token(world)
        r = await post(
            world,
            "/v1/selections/segment",
            token,
            {
                "selection": {"assignment_id": world.assignment.id, "states": ["interested"]},
                "segment_id": segment.id,
            },
        )
        assert r.status_code == 200, r.text
        assert (r.json()["created"], r.json()["count"]) == (False, 2)
        count = await post(
            world,
            "/v1/selections/count",
            token,
            {"assignment_id": world.assignment.id, "segment_ids": [segment.id]},
        )
        assert count.json()["by_state"] == {"interested": 2}
        assert ids[3] in {
            cid
            for cid in await world.session.scalars(
                select(Membership.customer_id).where(Membership.segment_id == segment.id)
            )
        }

    async def test_segment_of_another_assignment_is_404(self, world: World) -> None:
        await _mixed(world)
        other = await create_assignment(world.session, world.tenant, world.flow, name="Winter")
        segment = Segment(tenant_id=world.tenant.id, assignment_id=other.id, name="Elsewhere")
        world.session.add(segment)
        await world.session.commit()
        token = await setup_token(world)
        before = await snapshot(world)
        r = await post(
            world,
            "/v1/selections/segment",
            token,
            {"selection": {"assignment_id": world.assignment.id}, "segment_id": segment.id},
        )
        assert r.status_code == 404
        assert await snapshot(world) == before

    async def test_needs_assignment_setup(self, world: World) -> None:
        await _mixed(world)
        before = await snapshot(world)
        r = await post(
            world,
            "/v1/selections/segment",
            world.supervisor[1],
            {"selection": {"assignment_id": world.assignment.id}, "name": "Mine"},
        )
        assert r.status_code == 403
        assert await snapshot(world) == before
        assert await world.session.scalar(select(Segment.id)) is None

    async def test_name_and_segment_id_together_is_422(self, world: World) -> None:
        token = await setup_token(world)
        r = await post(
            world,
            "/v1/selections/segment",
            token,
            {"selection": {"assignment_id": world.assignment.id}, "name": "X", "segment_id": 1},
        )
        assert r.status_code == 422
