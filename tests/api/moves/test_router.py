"""Moves between assignments and segments (rule 9), one customer or a selection."""

from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.queue import AssignmentQueue
from services.worker.jobs.moves import run_move_job
from shared.models import Event, Membership, Segment
from tests.api.world import World
from tests.factories import create_assignment, create_flow, create_tenant, place_all


async def _second_assignment(world: World) -> int:
    other = await create_assignment(world.session, world.tenant, world.flow, name="Winter")
    return other.id


class TestMoveOne:
    async def test_moved_customer_is_free_and_unsegmented_there(self, world: World) -> None:
        c = await world.customers([{}])
        target = await _second_assignment(world)
        await world.session.execute(
            update(Membership)
            .where(Membership.customer_id == c[0].id)
            .values(
                state="interested",
                attempts=3,
                followup_kind="personal",
                followup_owner_id=world.agents[0][0].id,
                followup_at=datetime.now(UTC) - timedelta(minutes=1),
            )
        )
        await world.session.commit()
        await place_all(world.session, world.redis, world.assignment)
        card = (await world.next(agent=0)).json()
        assert card["customer"]["id"] == c[0].id

        r = await world.client.post(
            f"/v1/customers/{c[0].id}/move",
            json={"assignment_id": target},
            headers=world.auth(world.supervisor[1]),
        )
        assert r.status_code == 200, r.text
        m = r.json()["membership"]
        assert (m["assignment_id"], m["segment_id"], m["state"], m["attempts"]) == (
            target,
            None,
            "free",
            0,
        )
        assert m["followup_at"] is None and r.json()["from_assignment_id"] == world.assignment.id
        # The lease is gone: the former holder cannot write.
        w = await world.post(
            f"/v1/customers/{c[0].id}/outcomes",
            lease_id=card["lease"]["id"],
            version=card["membership"]["version"],
            code="sale",
        )
        assert w.status_code in (404, 409)
        # Served at once in the target, no longer in the source.
        assert (await world.next(agent=1)).json()["status"] == "empty"
        got = await world.client.post(
            f"/v1/assignments/{target}/next", headers=world.auth(world.agents[1][1])
        )
        assert got.json()["customer"]["id"] == c[0].id
        event = await world.session.scalar(select(Event).where(Event.kind == "moved"))
        assert event is not None
        assert event.data["from_assignment_id"] == world.assignment.id
        assert event.user_id == world.supervisor[0].id

    async def test_segment_move_keeps_the_state(self, world: World) -> None:
        segment = Segment(tenant_id=world.tenant.id, assignment_id=world.assignment.id, name="Hot")
        world.session.add(segment)
        await world.session.commit()
        c = await world.customers([{}], state="interested")
        r = await world.client.post(
            f"/v1/customers/{c[0].id}/move",
            json={"assignment_id": world.assignment.id, "segment_id": segment.id},
            headers=world.auth(world.supervisor[1]),
        )
        assert r.status_code == 200, r.text
        assert (r.json()["membership"]["state"], r.json()["membership"]["segment_id"]) == (
            "interested",
            segment.id,
        )

    async def test_agents_may_not_move(self, world: World) -> None:
        c = await world.customers([{}])
        target = await _second_assignment(world)
        r = await world.post(f"/v1/customers/{c[0].id}/move", assignment_id=target)
        assert r.status_code == 403

    async def test_another_tenants_target_is_404(self, world: World) -> None:
        c = await world.customers([{}])
        other = await create_tenant(world.session, name="Other")
        theirs = await create_assignment(
            world.session, other, await create_flow(world.session, other)
        )
        r = await world.client.post(
            f"/v1/customers/{c[0].id}/move",
            json={"assignment_id": theirs.id},
            headers=world.auth(world.supervisor[1]),
        )
        assert r.status_code == 404
        state = await world.session.scalar(
            select(Membership.assignment_id).where(Membership.customer_id == c[0].id)
        )
        assert state == world.assignment.id


class TestMoveSelection:
    async def test_job_moves_the_selection_with_progress(
        self,
        world: World,
        sessionmaker: async_sessionmaker[AsyncSession],
        redis: Redis,
    ) -> None:
        c = await world.customers(
            [{"email": "a@x.no"}, {"email": None}, {"email": "b@x.no"}, {"email": "c@x.no"}]
        )
        await world.session.execute(
            update(Membership).where(Membership.customer_id == c[3].id).values(attempts=5)
        )
        await world.session.commit()
        target = await _second_assignment(world)
        r = await world.client.post(
            "/v1/moves",
            json={
                "selection": {
                    "assignment_id": world.assignment.id,
                    "has_email": True,
                    "attempts_max": 2,
                },
                "target_assignment_id": target,
            },
            headers=world.auth(world.supervisor[1]),
        )
        assert r.status_code == 202, r.text
        job = r.json()
        assert (job["status"], job["total"]) == ("queued", 2)

        await run_move_job(job["id"], sessionmaker=sessionmaker, redis=redis)

        done = await world.client.get(
            f"/v1/bulk-jobs/{job['id']}", headers=world.auth(world.supervisor[1])
        )
        assert (done.json()["status"], done.json()["processed"], done.json()["succeeded"]) == (
            "done",
            2,
            2,
        )
        moved = set(
            await world.session.scalars(
                select(Membership.customer_id).where(Membership.assignment_id == target)
            )
        )
        assert moved == {c[0].id, c[2].id}
        depth = await AssignmentQueue(redis, target).depth()
        assert depth["free"] == 2
        # Running the job again changes nothing.
        await run_move_job(job["id"], sessionmaker=sessionmaker, redis=redis)
        assert (await AssignmentQueue(redis, target).depth())["free"] == 2

    async def test_bad_selection_is_422(self, world: World) -> None:
        r = await world.client.post(
            "/v1/moves",
            json={
                "selection": {
                    "assignment_id": world.assignment.id,
                    "attempts_min": 3,
                    "attempts_max": 1,
                },
                "target_assignment_id": world.assignment.id,
            },
            headers=world.auth(world.supervisor[1]),
        )
        assert r.status_code == 422
