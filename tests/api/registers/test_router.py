"""/v1/registers over HTTP: who may, tenancy, and an extract handed to the worker."""

import httpx
from sqlalchemy import select

from shared.infra.clock import utc_now
from shared.models import Register, RegisterImport
from tests.api.registers.conftest import Desk
from tests.api.world import World
from tests.factories import create_tenant


class TestRegisters:
    async def test_create_list_and_delete(self, desk: Desk, world: World) -> None:
        client = world.client
        r = await client.post(
            "/v1/registers", json={"name": "Reservasjonsregisteret"}, headers=desk.admin
        )
        assert r.status_code == 201
        created = r.json()
        assert (created["max_age_days"], created["extract_date"], created["numbers"]) == (
            31,
            None,
            0,
        )
        listed = (await client.get("/v1/registers", headers=desk.admin)).json()
        assert [r["id"] for r in listed["items"]] == [created["id"]]
        r = await client.delete(f"/v1/registers/{created['id']}", headers=desk.admin)
        assert r.status_code == 200
        assert await world.session.scalar(select(Register)) is None

    async def test_a_name_taken_answers_409(self, desk: Desk, world: World) -> None:
        body = {"name": "Bloctel", "max_age_days": 30}
        assert (await world.client.post("/v1/registers", json=body, headers=desk.admin)).is_success
        r = await world.client.post("/v1/registers", json=body, headers=desk.admin)
        assert r.status_code == 409

    async def test_agents_are_refused_and_other_tenants_see_nothing(
        self, desk: Desk, world: World
    ) -> None:
        agent = world.auth(world.agents[0][1])
        r = await world.client.post("/v1/registers", json={"name": "x"}, headers=agent)
        assert r.status_code == 403
        stranger = await create_tenant(world.session, name="Globex")
        other = Register(tenant_id=stranger.id, name="theirs")
        world.session.add(other)
        await world.session.commit()
        r = await world.client.delete(f"/v1/registers/{other.id}", headers=desk.admin)
        assert r.status_code == 404
        listed = (await world.client.get("/v1/registers", headers=desk.admin)).json()
        assert listed["items"] == []


class TestExtracts:
    async def test_an_extract_is_stored_and_queued(self, desk: Desk, world: World) -> None:
        register = await desk.register([])
        r = await world.client.post(
            f"/v1/registers/{register.id}/imports",
            params={"extract_date": utc_now().date().isoformat()},
            content=b"+4791234567\n+4791234568\n",
            headers={**desk.admin, "Content-Type": "text/plain"},
        )
        assert r.status_code == 202
        body = r.json()
        assert (body["status"], body["total_rows"]) == ("queued", 3)
        assert r.headers["Location"] == f"/v1/registers/{register.id}/imports/{body['id']}"
        polled = await world.client.get(r.headers["Location"], headers=desk.admin)
        assert polled.json()["id"] == body["id"]

    async def test_bad_extracts_answer_4xx_and_store_nothing(
        self, desk: Desk, world: World
    ) -> None:
        register = await desk.register([])
        url = f"/v1/registers/{register.id}/imports"
        future = {"extract_date": "2999-01-01"}
        plain = {**desk.admin, "Content-Type": "text/plain"}
        r = await world.client.post(url, params=future, content=b"+4791234567\n", headers=plain)
        assert (r.status_code, r.json()["code"]) == (422, "extract_in_future")
        today = {"extract_date": utc_now().date().isoformat()}
        r = await world.client.post(
            url,
            params=today,
            content=b"[1]",
            headers={**desk.admin, "Content-Type": "application/json"},
        )
        assert r.status_code == 415
        r = await world.client.post(url, params=today, content=b"  ", headers=plain)
        assert r.status_code == 422
        assert await world.session.scalar(select(RegisterImport)) is None

    async def test_another_tenants_register_takes_no_extract(
        self, desk: Desk, world: World, client: httpx.AsyncClient
    ) -> None:
        r = await client.post(
            "/v1/registers/999999/imports",
            params={"extract_date": utc_now().date().isoformat()},
            content=b"+4791234567\n",
            headers={**desk.admin, "Content-Type": "text/plain"},
        )
        assert r.status_code == 404
