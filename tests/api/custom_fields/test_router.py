"""/v1/custom-fields over HTTP."""

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import CustomFieldDefinition
from tests.api.orgs import Org


class TestCreateCustomField:
    async def test_declares_a_field(self, acme: Org) -> None:
        body = {"key": "score", "label": "Score", "type": "number", "required": True}
        r = await acme.post("/v1/custom-fields", body, role="setup")
        assert r.status_code == 201
        field = r.json()
        assert (field["key"], field["type"], field["required"]) == ("score", "number", True)
        assert field["unique_if_filled"] is False

    async def test_a_duplicate_key_answers_409(self, acme: Org) -> None:
        await acme.post("/v1/custom-fields", {"key": "score"}, role="setup")
        r = await acme.post("/v1/custom-fields", {"key": "score", "type": "text"}, role="setup")
        assert r.status_code == 409

    async def test_another_tenant_may_use_the_same_key(self, acme: Org, globex: Org) -> None:
        await acme.post("/v1/custom-fields", {"key": "score"}, role="setup")
        r = await globex.post("/v1/custom-fields", {"key": "score"}, role="setup")
        assert r.status_code == 201

    async def test_an_invalid_key_answers_422(self, acme: Org) -> None:
        for key in ("Score", "1st", "", "a-b", "x" * 101):
            r = await acme.post("/v1/custom-fields", {"key": key}, role="setup")
            assert r.status_code == 422, key

    async def test_an_unknown_type_answers_422(self, acme: Org) -> None:
        r = await acme.post("/v1/custom-fields", {"key": "score", "type": "money"}, role="setup")
        assert r.status_code == 422

    async def test_malformed_json_answers_422(self, client: httpx.AsyncClient, acme: Org) -> None:
        headers = {**acme.auth("setup"), "Content-Type": "application/json"}
        r = await client.post("/v1/custom-fields", content=b"{key: score}", headers=headers)
        assert r.status_code == 422

    async def test_needs_the_assignment_setup_permission(
        self, acme: Org, session: AsyncSession
    ) -> None:
        r = await acme.post("/v1/custom-fields", {"key": "score"}, role="agent")
        assert r.status_code == 403
        assert await session.scalar(select(CustomFieldDefinition)) is None


class TestListCustomFields:
    async def test_lists_only_the_callers_tenant(self, acme: Org, globex: Org) -> None:
        await acme.post("/v1/custom-fields", {"key": "score"}, role="setup")
        await globex.post("/v1/custom-fields", {"key": "region"}, role="setup")
        r = await acme.get("/v1/custom-fields", role="setup")
        assert r.status_code == 200
        assert [f["key"] for f in r.json()["items"]] == ["score"]

    async def test_with_a_wrong_token_answers_401(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/v1/custom-fields", headers={"Authorization": "Bearer nc_nope"})
        assert r.status_code == 401
