"""Rules 15-18 over HTTP: current customer, manual select, expiry, holder-only writes."""

import time

from sqlalchemy import func, select

from services.queue import AssignmentQueue
from shared.models import Event, Membership, PresentationMode
from tests.api.world import World


class TestSelect:
    async def test_select_takes_a_customer(self, world: World) -> None:
        customers = await world.customers([{}, {}])
        r = await world.post(f"/v1/customers/{customers[1].id}/select")
        assert r.status_code == 200, r.text
        assert r.json()["customer"]["id"] == customers[1].id
        # Now held: a colleague's next gets the other one.
        assert (await world.next(agent=1)).json()["customer"]["id"] == customers[0].id

    async def test_select_names_the_holder(self, world: World) -> None:
        customers = await world.customers([{}])
        await world.next(agent=0)
        r = await world.post(f"/v1/customers/{customers[0].id}/select", agent=1)
        assert r.status_code == 409
        assert "Agent 0" in r.json()["detail"]
        assert r.json()["holder"]["id"] == world.agents[0][0].id

    async def test_select_is_refused_in_predictive_mode(self, world: World) -> None:
        world.assignment.presentation_mode = PresentationMode.predictive
        await world.session.commit()
        customers = await world.customers([{}])
        r = await world.post(f"/v1/customers/{customers[0].id}/select")
        assert r.status_code == 403
        assert "predictive" in r.json()["detail"]

    async def test_selecting_another_releases_the_first(self, world: World) -> None:
        customers = await world.customers([{}, {}])
        await world.post(f"/v1/customers/{customers[0].id}/select")
        await world.post(f"/v1/customers/{customers[1].id}/select")
        assert (await world.next(agent=1)).json()["customer"]["id"] == customers[0].id

    async def test_unknown_customer_is_404(self, world: World) -> None:
        assert (await world.post("/v1/customers/999999/select")).status_code == 404


class TestLeaseLifecycle:
    async def test_an_expired_lease_returns_the_customer_as_it_was(self, world: World) -> None:
        customers = await world.customers([{}, {}])
        queue = AssignmentQueue(world.redis, world.assignment.id)
        before = await queue.snapshot()
        card = (await world.next(agent=0)).json()
        assert card["customer"]["id"] == customers[0].id
        await queue.sweep(now=int(time.time() * 1000) + 301_000)
        assert await queue.snapshot() == before
        # The former holder can no longer write (rule 18) ...
        r = await world.post(
            f"/v1/customers/{customers[0].id}/outcomes",
            lease_id=card["lease"]["id"],
            version=card["membership"]["version"],
            code="sale",
        )
        assert r.status_code == 409
        # ... and a colleague gets the customer at its old place, first.
        assert (await world.next(agent=1)).json()["customer"]["id"] == customers[0].id

    async def test_heartbeat_renews_and_release_gives_back(self, world: World) -> None:
        customers = await world.customers([{}])
        card = (await world.next()).json()
        lease = card["lease"]["id"]
        r = await world.post(f"/v1/customers/{customers[0].id}/heartbeat", lease_id=lease)
        assert r.status_code == 200
        assert r.json()["expires_at"] >= card["lease"]["expires_at"]
        r = await world.post(f"/v1/customers/{customers[0].id}/release", lease_id=lease)
        assert r.status_code == 200
        assert (await world.next(agent=1)).json()["customer"]["id"] == customers[0].id

    async def test_heartbeat_by_someone_else_is_409(self, world: World) -> None:
        customers = await world.customers([{}])
        card = (await world.next(agent=0)).json()
        r = await world.post(
            f"/v1/customers/{customers[0].id}/heartbeat", agent=1, lease_id=card["lease"]["id"]
        )
        assert r.status_code == 409

    async def test_force_release_needs_extended_handling(self, world: World) -> None:
        customers = await world.customers([{}])
        await world.next(agent=0)
        path = f"/v1/customers/{customers[0].id}/force-release"
        assert (await world.post(path, agent=1)).status_code == 403
        r = await world.client.post(path, headers=world.auth(world.supervisor[1]))
        assert r.status_code == 200
        assert r.json()["holder_user_id"] == world.agents[0][0].id
        assert (await world.next(agent=1)).json()["customer"]["id"] == customers[0].id
        kinds = await world.session.scalars(select(Event.kind))
        assert "force_released" in list(kinds)


class TestOnlyTheHolderWrites:
    async def test_a_colleague_cannot_register(self, world: World) -> None:
        customers = await world.customers([{}])
        card = (await world.next(agent=0)).json()
        r = await world.post(
            f"/v1/customers/{customers[0].id}/outcomes",
            agent=1,
            lease_id=card["lease"]["id"],
            version=card["membership"]["version"],
            code="sale",
        )
        assert r.status_code == 409
        assert "Agent 0" in r.json()["detail"]
        events = await world.session.scalar(select(func.count()).select_from(Event))
        assert events == 0

    async def test_a_stale_version_writes_nothing(self, world: World) -> None:
        customers = await world.customers([{}])
        card = (await world.next()).json()
        r = await world.post(
            f"/v1/customers/{customers[0].id}/outcomes",
            lease_id=card["lease"]["id"],
            version=card["membership"]["version"] + 1,
            code="sale",
        )
        assert r.status_code == 409
        state = await world.session.scalar(
            select(Membership.state).where(Membership.customer_id == customers[0].id)
        )
        assert state == "free"
