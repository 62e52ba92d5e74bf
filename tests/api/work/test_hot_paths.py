"""next and the holder's writes served in front of FastAPI (services/api/work/hot.py).

The hot paths take only ordinary requests and pass everything else on, body intact, so that
FastAPI answers the malformed ones. Here FastAPI's place is taken by a stand-in that records
what reached it; the hot paths themselves run against the real app's resources.
"""

import json
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from services.api.work.hot import HotPaths
from shared.models import Permission
from tests.api.world import World, streamed
from tests.factories import create_user

PASSED_ON = 418


class Harness:
    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.passed_on: list[tuple[str, bytes]] = []
        self.hot = HotPaths(
            self._stand_in, max_body_bytes=app.state.resources.settings.max_body_bytes
        )
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self._entry), base_url="http://test"
        )

    async def _entry(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self.app  # as Starlette sets it before its middleware
        await self.hot(scope, receive, send)

    async def _stand_in(self, scope: Scope, receive: Receive, send: Send) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.passed_on.append((scope["path"], body))
        await send({"type": "http.response.start", "status": PASSED_ON, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def _card(world: World, harness: Harness, agent: int = 0) -> dict[str, Any]:
    r = await harness.client.post(
        f"/v1/assignments/{world.assignment.id}/next",
        headers=world.auth(world.agents[agent][1]),
    )
    assert r.status_code == 200, r.text
    card: dict[str, Any] = r.json()
    assert card["status"] == "claimed"
    return card


class TestTaken:
    async def test_next_then_outcome_are_served_without_fastapi(
        self, world: World, app: FastAPI
    ) -> None:
        await world.customers([{}])
        harness = Harness(app)
        card = await _card(world, harness)
        r = await harness.client.post(
            f"/v1/customers/{card['customer']['id']}/outcomes",
            json={
                "lease_id": card["lease"]["id"],
                "version": card["membership"]["version"],
                "code": "sale",
            },
            headers=world.auth(world.agents[0][1]),
        )
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/json"
        assert r.json()["membership"]["version"] == card["membership"]["version"] + 1
        assert harness.passed_on == []

    async def test_expected_errors_are_answered_as_fastapi_would(
        self, world: World, app: FastAPI
    ) -> None:
        await world.customers([{}])
        harness = Harness(app)
        card = await _card(world, harness)
        path = f"/v1/customers/{card['customer']['id']}/outcomes"
        body = {"lease_id": card["lease"]["id"], "version": card["membership"]["version"]}
        agent = world.auth(world.agents[0][1])
        other = world.auth(world.agents[1][1])
        _, reporter = await create_user(
            world.session, world.tenant, name="Reporter", permissions=[Permission.reporting.value]
        )
        answers = [
            await harness.client.post(path, json={**body, "code": "nope"}, headers=agent),
            await harness.client.post(path, json={**body, "code": "sale"}, headers=other),
            await harness.client.post(
                path, json={**body, "code": "sale"}, headers=world.auth(reporter)
            ),
            await harness.client.post(
                path, json={**body, "code": "sale"}, headers=world.auth("nc_unknown")
            ),
            await harness.client.post(
                "/v1/customers/999999999/outcomes",
                json={**body, "code": "sale"},
                headers=agent,
            ),
        ]
        assert [a.status_code for a in answers] == [422, 409, 403, 401, 404]
        assert "unknown outcome" in answers[0].json()["detail"]
        assert "do not hold" in answers[1].json()["detail"]
        assert answers[3].headers["www-authenticate"] == "Bearer"
        assert harness.passed_on == []
        # Nothing was written by any of them: the holder's own outcome still goes through.
        ok = await harness.client.post(path, json={**body, "code": "sale"}, headers=agent)
        assert ok.status_code == 200


class TestPassedOn:
    async def test_unusual_requests_reach_fastapi_with_their_body(
        self, world: World, app: FastAPI
    ) -> None:
        harness = Harness(app)
        agent = world.auth(world.agents[0][1])
        next_path = f"/v1/assignments/{world.assignment.id}/next"
        cases: list[tuple[str, bytes, dict[str, str]]] = [
            (next_path, b"{not json", {**agent, "content-type": "application/json"}),
            (next_path, b'{"wait_seconds": 2}', {**agent, "content-type": "application/json"}),
            (next_path, b'{"segment_id": "x"}', {**agent, "content-type": "application/json"}),
            (next_path, b"{}", {**agent, "content-type": "text/plain"}),
            (next_path, b"{}", {"content-type": "application/json"}),
            ("/v1/assignments/0/next", b"{}", {**agent, "content-type": "application/json"}),
            (next_path, b"{}", agent),  # a body without a Content-Type
            (
                "/v1/customers/1/outcomes",
                b'{"code": 1}',
                {**agent, "content-type": "application/json"},
            ),
        ]
        for path, content, headers in cases:
            r = await harness.client.post(path, content=content, headers=headers)
            assert r.status_code == PASSED_ON, (path, content, r.text)
        assert harness.passed_on == [(path, content) for path, content, _ in cases]

    async def test_a_streamed_body_over_the_limit_is_413(self, world: World, app: FastAPI) -> None:
        harness = Harness(app)
        limit = app.state.resources.settings.max_body_bytes
        content = json.dumps({"pad": "x" * limit}).encode()

        r = await harness.client.post(
            f"/v1/assignments/{world.assignment.id}/next",
            content=streamed(content),
            headers={**world.auth(world.agents[0][1]), "content-type": "application/json"},
        )
        assert r.status_code == 413
        assert "over" in r.json()["detail"]
        assert harness.passed_on == []

    async def test_a_token_with_spaces_around_it_is_read_as_fastapi_reads_it(
        self, world: World, app: FastAPI
    ) -> None:
        await world.customers([{}])
        harness = Harness(app)
        r = await harness.client.post(
            f"/v1/assignments/{world.assignment.id}/next",
            headers={"Authorization": f"Bearer  {world.agents[0][1]} "},
        )
        assert r.status_code == 200, r.text
        assert harness.passed_on == []

    async def test_other_routes_and_methods_are_not_touched(
        self, world: World, app: FastAPI
    ) -> None:
        harness = Harness(app)
        agent = world.auth(world.agents[0][1])
        await harness.client.get(f"/v1/assignments/{world.assignment.id}/next", headers=agent)
        await harness.client.post("/v1/customers/1/select", json={}, headers=agent)
        assert [p for p, _ in harness.passed_on] == [
            f"/v1/assignments/{world.assignment.id}/next",
            "/v1/customers/1/select",
        ]


class TestThroughTheApp:
    async def test_malformed_input_gets_fastapis_answer(self, world: World) -> None:
        r = await world.client.post(
            f"/v1/assignments/{world.assignment.id}/next",
            content=b'{"wait_seconds": -1}',
            headers={**world.auth(world.agents[0][1]), "content-type": "application/json"},
        )
        assert r.status_code == 422
        assert r.json()["detail"] == "invalid request"
        assert r.json()["errors"][0]["loc"][-1] == "wait_seconds"
