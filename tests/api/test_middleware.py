"""Huge payloads are refused before anything reads them."""

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import trace

from tests.api.world import World, streamed


class TestBodySizeLimit:
    async def test_a_body_over_the_limit_is_413(self, world: World, app: FastAPI) -> None:
        limit = app.state.resources.settings.max_body_bytes
        r = await world.client.post(
            f"/v1/assignments/{world.assignment.id}/imports",
            content=b"x" * (limit + 1),
            headers={**world.auth(world.supervisor[1]), "Content-Type": "text/csv"},
        )
        assert r.status_code == 413
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "payload_too_large"
        assert "over" in r.json()["detail"]

    async def test_a_streamed_body_over_the_limit_is_413_on_a_fastapi_route(
        self, world: World, app: FastAPI
    ) -> None:
        limit = app.state.resources.settings.max_body_bytes
        content = b'{"first_name": "' + b"x" * limit + b'"}'

        r = await world.client.post(
            "/v1/customers",
            content=streamed(content),
            headers={**world.auth(world.supervisor[1]), "Content-Type": "application/json"},
        )
        assert r.status_code == 413
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "payload_too_large"
        assert "over" in r.json()["detail"]

    async def test_a_body_under_the_limit_passes(self, world: World) -> None:
        r = await world.next()
        assert r.status_code == 200


class TestNoServerErrors:
    async def test_unknown_routes_and_methods_are_4xx(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/v1/nothing-here")).status_code == 404
        assert (await client.delete("/v1/my-work")).status_code in (401, 405)


class TestNoOpenTelemetryPerRequest:
    async def test_a_request_never_looks_for_a_tracer_provider(
        self, world: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # FastAPI's own OpenTelemetry layer is off (decision 038): on, it looked for a
        # configured provider on every request, a cost on the hot path.
        looked: list[str] = []

        def provider() -> object:
            looked.append("tracer")
            raise AssertionError("OpenTelemetry consulted")

        monkeypatch.setattr(trace, "get_tracer_provider", provider)
        r = await world.next()
        assert r.status_code == 200
        assert looked == []
