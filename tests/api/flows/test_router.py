"""/v1/flows over HTTP: flows are validated by shared.flows.FlowSpec, errors answer 422."""

import copy
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.demo import SEED_FLOW
from shared.models import Flow
from tests.api.orgs import Org
from tests.factories import create_flow


def flow_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Sales", **copy.deepcopy(SEED_FLOW)}
    body.update(changes)
    return body


async def flow_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Flow)) or 0)


class TestCreateFlow:
    async def test_creates_a_flow(self, acme: Org) -> None:
        r = await acme.post("/v1/flows", flow_body(), role="setup")
        assert r.status_code == 201
        flow = r.json()
        assert flow["name"] == "Sales"
        assert flow["initial_state"] == "free"
        assert [s["key"] for s in flow["states"]] == [s["key"] for s in SEED_FLOW["states"]]
        assert flow["outcomes"][0]["follow_up"] == "personal"
        fetched = await acme.get(f"/v1/flows/{flow['id']}", role="setup")
        assert fetched.json() == flow

    async def test_an_outcome_to_an_unknown_state_answers_422(
        self, acme: Org, session: AsyncSession
    ) -> None:
        body = flow_body()
        body["outcomes"][1]["to_state"] = "won"
        r = await acme.post("/v1/flows", body, role="setup")
        assert r.status_code == 422
        assert "unknown state 'won'" in r.json()["detail"]
        assert await flow_count(session) == 0

    async def test_a_flow_without_a_free_state_answers_422(self, acme: Org) -> None:
        states = [{"key": "open", "name": "Open", "kind": "progressive"}]
        outcomes = [{"code": "done", "name": "Done", "from_states": ["open"], "to_state": "open"}]
        r = await acme.post("/v1/flows", flow_body(states=states, outcomes=outcomes), role="setup")
        assert r.status_code == 422
        assert "at least one state of kind 'free'" in r.json()["detail"]

    async def test_duplicate_state_keys_answer_422(self, acme: Org) -> None:
        body = flow_body()
        body["states"].append({"key": "free", "name": "Free again", "kind": "free"})
        r = await acme.post("/v1/flows", body, role="setup")
        assert r.status_code == 422
        assert "unique" in r.json()["detail"]

    async def test_an_unknown_state_kind_answers_422(self, acme: Org) -> None:
        body = flow_body()
        body["states"][0]["kind"] = "open"
        r = await acme.post("/v1/flows", body, role="setup")
        assert r.status_code == 422

    async def test_malformed_json_answers_422(self, client: httpx.AsyncClient, acme: Org) -> None:
        headers = {**acme.auth("setup"), "Content-Type": "application/json"}
        r = await client.post(
            "/v1/flows", content=b'{"name": "Sales", "states": [', headers=headers
        )
        assert r.status_code == 422

    async def test_a_body_that_is_not_an_object_answers_422(self, acme: Org) -> None:
        r = await acme.post("/v1/flows", ["Sales"], role="setup")
        assert r.status_code == 422

    async def test_without_a_token_answers_401(self, client: httpx.AsyncClient) -> None:
        r = await client.post("/v1/flows", json=flow_body())
        assert r.status_code == 401

    async def test_needs_the_assignment_setup_permission(
        self, acme: Org, session: AsyncSession
    ) -> None:
        r = await acme.post("/v1/flows", flow_body(), role="agent")
        assert r.status_code == 403
        assert await flow_count(session) == 0

    async def test_an_administrator_may_create_flows(self, acme: Org) -> None:
        r = await acme.post("/v1/flows", flow_body(), role="admin")
        assert r.status_code == 201


class TestListFlows:
    async def test_lists_only_the_callers_tenant(
        self, acme: Org, globex: Org, session: AsyncSession
    ) -> None:
        own = await create_flow(session, acme.tenant)
        await create_flow(session, globex.tenant)
        r = await acme.get("/v1/flows", role="setup")
        assert r.status_code == 200
        assert [f["id"] for f in r.json()["items"]] == [own.id]

    async def test_needs_the_assignment_setup_permission(self, acme: Org) -> None:
        r = await acme.get("/v1/flows", role="reporter")
        assert r.status_code == 403


class TestGetFlow:
    async def test_another_tenants_flow_answers_404(
        self, acme: Org, globex: Org, session: AsyncSession
    ) -> None:
        theirs = await create_flow(session, globex.tenant)
        r = await acme.get(f"/v1/flows/{theirs.id}", role="setup")
        assert r.status_code == 404
        assert r.json()["detail"] == f"flow {theirs.id} not found"

    async def test_an_unknown_flow_answers_404(self, acme: Org) -> None:
        r = await acme.get("/v1/flows/12345", role="setup")
        assert r.status_code == 404
