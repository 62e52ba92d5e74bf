"""My Work lists (rules 20-22) and visibility."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from shared.models import Membership
from tests.api.world import World


async def _follow_up(
    world: World, customer_id: int, *, kind: str, at: datetime | None, owner: int | None
) -> None:
    state = "interested" if kind == "personal" else "free"
    await world.session.execute(
        update(Membership)
        .where(Membership.customer_id == customer_id)
        .values(state=state, followup_kind=kind, followup_at=at, followup_owner_id=owner)
    )
    await world.session.commit()


class TestMyWork:
    async def test_lists_split_mine_shared_and_passed(self, world: World) -> None:
        c = await world.customers([{"first_name": f"C{i}", "last_name": "X"} for i in range(5)])
        me, other = world.agents[0][0].id, world.agents[1][0].id
        now = datetime.now(UTC)
        end_of_day = now.replace(hour=23, minute=59, second=0, microsecond=0)
        later_today = min(now + timedelta(minutes=1), end_of_day)
        await _follow_up(world, c[0].id, kind="personal", at=later_today, owner=me)
        await _follow_up(world, c[1].id, kind="personal", at=now - timedelta(hours=1), owner=me)
        await _follow_up(world, c[2].id, kind="personal", at=later_today, owner=other)
        await _follow_up(world, c[3].id, kind="shared", at=later_today, owner=None)
        await _follow_up(world, c[4].id, kind="shared", at=now - timedelta(hours=2), owner=None)

        r = await world.client.get("/v1/my-work", headers=world.auth(world.agents[0][1]))
        assert r.status_code == 200, r.text
        body = r.json()

        def ids(name: str) -> list[int]:
            return [row["customer_id"] for row in body[name]["items"]]

        assert ids("personal_today") == [c[0].id]
        assert ids("shared_today") == [c[3].id]
        assert ids("to_follow_up") == [c[0].id]
        assert ids("passed_personal") == [c[1].id]
        assert ids("passed_shared") == [c[4].id]
        row = body["personal_today"]["items"][0]
        assert row["customer_name"] == "C0 X"
        assert row["assignment_name"] == world.assignment.name
        assert row["state"] == "interested"

    async def test_pages_passed_newest_first(self, world: World) -> None:
        c = await world.customers([{} for _ in range(3)])
        now = datetime.now(UTC)
        for i, customer in enumerate(c):
            at = now - timedelta(hours=3 - i)
            await _follow_up(world, customer.id, kind="shared", at=at, owner=None)
        auth = world.auth(world.agents[0][1])
        r = await world.client.get("/v1/my-work/passed-shared?limit=2", headers=auth)
        page = r.json()
        assert page["total"] == 3
        assert [row["customer_id"] for row in page["items"]] == [c[2].id, c[1].id]
        r = await world.client.get(
            "/v1/my-work/passed-shared", params={"limit": 2, "cursor": page["next"]}, headers=auth
        )
        assert [row["customer_id"] for row in r.json()["items"]] == [c[0].id]
        assert r.json()["next"] is None

    async def test_hidden_assignments_are_left_out(self, world: World) -> None:
        c = await world.customers([{}])
        await _follow_up(
            world, c[0].id, kind="shared", at=datetime.now(UTC) - timedelta(hours=1), owner=None
        )
        world.assignment.visible_to_all = False
        world.assignment.visible_user_ids = [world.agents[1][0].id]
        await world.session.commit()
        mine = await world.client.get(
            "/v1/my-work/passed-shared", headers=world.auth(world.agents[0][1])
        )
        theirs = await world.client.get(
            "/v1/my-work/passed-shared", headers=world.auth(world.agents[1][1])
        )
        assert mine.json()["total"] == 0
        assert theirs.json()["total"] == 1

    async def test_unknown_list_and_zone_are_refused(self, world: World) -> None:
        auth = world.auth(world.agents[0][1])
        assert (await world.client.get("/v1/my-work/everything", headers=auth)).status_code == 422
        r = await world.client.get("/v1/my-work?tz=Mars/Base", headers=auth)
        assert r.status_code == 422
