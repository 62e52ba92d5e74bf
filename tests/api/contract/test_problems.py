"""Every error answer is RFC 9457 problem details, as the schema documents it (issue 14,
point 2): `application/problem+json` with type, title, status, detail and the stable code,
from every place that answers an error (domain errors, the hot paths, the framework's 404 and
405, invalid input, the body-size limit, the rate limits)."""

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from redis.asyncio import Redis

from services.api.problems import PROBLEM_JSON, PROBLEM_TYPE_BASE, Problem
from shared.models import Permission
from tests.api.api_process import ApiProcess
from tests.api.contract.conftest import FAILURES_PER_TOKEN, Callers, get
from tests.api.world import World, streamed
from tests.factories import create_user

PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
# Documented on every /v1 operation: any of them may answer these.
ON_EVERY_OPERATION = {"401", "403", "404", "422", "429", "503"}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    Problem.model_validate(body)
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == PROBLEM_TYPE_BASE + code
    assert body["title"] and body["detail"]
    return body


class TestSchema:
    async def test_every_error_answer_of_every_operation_is_a_problem(self, app: FastAPI) -> None:
        schema = app.openapi()
        operations = [
            (f"{method.upper()} {path}", operation)
            for path, item in schema["paths"].items()
            for method, operation in item.items()
        ]
        errors = {
            f"{name} {status}": answer.get("content")
            for name, operation in operations
            for status, answer in operation["responses"].items()
            if int(status) >= 400
        }

        assert len(errors) > 300  # every /v1 operation documents its errors
        assert {k: v for k, v in errors.items() if v != PROBLEM_CONTENT} == {}
        for name, operation in operations:
            if " /v1/" in name:
                assert set(operation["responses"]) >= ON_EVERY_OPERATION, name
        problem = schema["components"]["schemas"]["Problem"]
        assert {"type", "title", "status", "detail", "code"} <= set(problem["required"])


class TestAnswers:
    """Each answer is checked against its operation's documented answer (schemathesis reads
    the app's own schema), then against the problem model and its members."""

    @pytest.fixture
    async def checked(
        self, app: FastAPI
    ) -> Callable[[str, str, httpx.Response, int, str], Awaitable[dict[str, Any]]]:
        schema = schemathesis.openapi.from_dict(app.openapi())

        async def check(
            method: str, path: str, response: httpx.Response, status: int, code: str
        ) -> dict[str, Any]:
            operation = schema.find_operation_by_label(f"{method} {path}")
            assert operation is not None, f"{method} {path}"
            operation.validate_response(response)
            return assert_problem(response, status, code)

        return check

    async def test_domain_and_framework_errors(self, world: World, checked: Any) -> None:
        client = world.client
        agent = world.auth(world.agents[0][1])
        supervisor = world.auth(world.supervisor[1])
        _, setup_token = await create_user(
            world.session,
            world.tenant,
            name="Setup",
            permissions=[Permission.assignment_setup.value],
        )

        unknown_token = await client.get("/v1/me", headers=world.auth("nc_unknown"))
        await checked("GET", "/v1/me", unknown_token, 401, "unauthorized")
        assert unknown_token.headers["www-authenticate"] == "Bearer"

        not_permitted = await client.get("/v1/users", headers=agent)
        await checked("GET", "/v1/users", not_permitted, 403, "forbidden")

        missing = await client.get("/v1/assignments/999999999", headers=supervisor)
        await checked("GET", "/v1/assignments/{assignment_id}", missing, 404, "not_found")

        invalid = await client.get(
            "/v1/customers/search", params={"q": "a", "limit": "x"}, headers=agent
        )
        body = await checked("GET", "/v1/customers/search", invalid, 422, "invalid")
        assert [(e["loc"], e["type"]) for e in body["errors"]] == [
            (["query", "limit"], "int_parsing")
        ]

        unsupported = await client.post(
            f"/v1/assignments/{world.assignment.id}/imports",
            content=b"a,b",
            headers={**world.auth(setup_token), "Content-Type": "application/xml"},
        )
        await checked(
            "POST",
            "/v1/assignments/{assignment_id}/imports",
            unsupported,
            415,
            "unsupported_media_type",
        )

        # The framework's own answers have no operation to document them.
        assert_problem(await client.get("/v1/nowhere", headers=agent), 404, "not_found")
        wrong_method = await client.put("/v1/me", headers=agent)
        assert_problem(wrong_method, 405, "method_not_allowed")
        assert "GET" in wrong_method.headers["allow"]

    async def test_the_hot_paths_answer_problems_too(
        self, world: World, app: FastAPI, checked: Any
    ) -> None:
        await world.customers([{}])
        card = (await world.next()).json()
        path = f"/v1/customers/{card['customer']['id']}/outcomes"
        label = "/v1/customers/{customer_id}/outcomes"
        body = {"lease_id": card["lease"]["id"], "version": card["membership"]["version"]}
        _, reporter = await create_user(
            world.session, world.tenant, name="Reporter", permissions=[Permission.reporting.value]
        )
        limit = app.state.resources.settings.max_body_bytes

        unknown = await world.post(path, **body, code="nope")
        await checked("POST", label, unknown, 422, "invalid")
        lost = await world.post(path, agent=1, **body, code="sale")
        await checked("POST", label, lost, 409, "lease_lost")
        refused = await world.client.post(
            path, json={**body, "code": "sale"}, headers=world.auth(reporter)
        )
        await checked("POST", label, refused, 403, "forbidden")
        too_large = await world.client.post(
            path,
            content=streamed(b'{"comment": "' + b"x" * limit + b'"}'),
            headers={**world.auth(world.agents[0][1]), "Content-Type": "application/json"},
        )
        assert_problem(too_large, 413, "payload_too_large")
        invalid = await world.next(wait_seconds="soon")
        body_errors = await checked(
            "POST", "/v1/assignments/{assignment_id}/next", invalid, 422, "invalid"
        )
        assert body_errors["errors"][0]["loc"] == ["body", "wait_seconds"]


def test_rate_limited_answers_over_real_http_are_problems(
    apis: list[ApiProcess], callers: Callers, redis: Redis
) -> None:
    schema = schemathesis.openapi.from_dict(httpx.get(f"{apis[0].url}/openapi.json").json())
    operation = schema.find_operation_by_label("GET /v1/me")
    assert operation is not None
    answers = [get(apis[0], "/v1/me", "nc_problem_guess") for _ in range(FAILURES_PER_TOKEN + 1)]

    for refused in answers[:FAILURES_PER_TOKEN]:
        operation.validate_response(refused)
        assert_problem(refused, 401, "unauthorized")
    operation.validate_response(answers[-1])
    body = assert_problem(answers[-1], 429, "rate_limited")
    assert body["retry_after_s"] == int(answers[-1].headers["retry-after"])
