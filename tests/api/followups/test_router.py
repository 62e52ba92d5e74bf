"""Changing a follow-up's time and owner (rule 23)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from services.queue import AssignmentQueue
from shared.models import Event, Membership
from tests.api.world import World


async def _personal(world: World, customer_id: int, owner: int, at: datetime) -> None:
    await world.session.execute(
        update(Membership)
        .where(Membership.customer_id == customer_id)
        .values(
            state="interested", followup_kind="personal", followup_at=at, followup_owner_id=owner
        )
    )
    await world.session.commit()


class TestChangeFollowUp:
    async def test_new_owner_gets_it_in_my_work_and_in_next(self, world: World) -> None:
        c = await world.customers([{}])
        me, colleague = world.agents[0][0].id, world.agents[1][0].id
        await _personal(world, c[0].id, me, datetime.now(UTC) + timedelta(hours=1))
        soon = datetime.now(UTC) - timedelta(seconds=1)
        r = await world.client.patch(
            f"/v1/customers/{c[0].id}/follow-up",
            json={"owner_id": colleague, "at": soon.isoformat()},
            headers=world.auth(world.agents[0][1]),
        )
        assert r.status_code == 200, r.text
        assert r.json()["membership"]["followup_owner_id"] == colleague
        theirs = await world.client.get(
            "/v1/my-work/passed-personal", headers=world.auth(world.agents[1][1])
        )
        assert [row["customer_id"] for row in theirs.json()["items"]] == [c[0].id]
        mine = await world.client.get(
            "/v1/my-work/to-follow-up", headers=world.auth(world.agents[0][1])
        )
        assert mine.json()["total"] == 0
        # The queue follows: due now, for the new owner only.
        assert (await world.next(agent=0)).json()["status"] == "empty"
        assert (await world.next(agent=1)).json()["customer"]["id"] == c[0].id
        kinds = list(await world.session.scalars(select(Event.kind)))
        assert kinds == ["followup_changed"]

    async def test_someone_elses_needs_extended_handling(self, world: World) -> None:
        c = await world.customers([{}])
        await _personal(world, c[0].id, world.agents[1][0].id, datetime.now(UTC))
        path = f"/v1/customers/{c[0].id}/follow-up"
        body = {"at": (datetime.now(UTC) + timedelta(days=1)).isoformat()}
        r = await world.client.patch(path, json=body, headers=world.auth(world.agents[0][1]))
        assert r.status_code == 403
        r = await world.client.patch(path, json=body, headers=world.auth(world.supervisor[1]))
        assert r.status_code == 200

    async def test_no_follow_up_is_409(self, world: World) -> None:
        c = await world.customers([{}])
        r = await world.client.patch(
            f"/v1/customers/{c[0].id}/follow-up",
            json={"at": datetime.now(UTC).isoformat()},
            headers=world.auth(world.agents[0][1]),
        )
        assert r.status_code == 409

    async def test_time_change_moves_it_in_the_queue(self, world: World) -> None:
        c = await world.customers([{}])
        await world.session.execute(
            update(Membership)
            .where(Membership.customer_id == c[0].id)
            .values(followup_kind="shared", followup_at=datetime.now(UTC) + timedelta(days=1))
        )
        await world.session.commit()
        r = await world.client.patch(
            f"/v1/customers/{c[0].id}/follow-up",
            json={"at": "2020-01-01T10:00:00Z"},
            headers=world.auth(world.agents[0][1]),
        )
        assert r.status_code == 200, r.text
        placement = await AssignmentQueue(world.redis, world.assignment.id).placement_of(c[0].id)
        assert placement is not None
        assert placement.due_ms == int(datetime(2020, 1, 1, 10, tzinfo=UTC).timestamp() * 1000)
