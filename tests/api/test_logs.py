"""Log lines: one JSON object per request in production, with who asked and how it went,
never a customer's name or phone number (docs/decisions/021-metrics-alerts-logs.md)."""

import io
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI

from shared.infra.logs import configure_logging, drop_personal
from shared.infra.settings import LogFormat
from tests.api.world import World

NAME, PHONE = "Ødegård", "+4791234567"


@contextmanager
def _logging(fmt: LogFormat) -> Iterator[io.StringIO]:
    """Logging as a process of ours sets it up, into a buffer; the test run's back after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging(fmt, stream=stream)
    try:
        yield stream
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        structlog.reset_defaults()


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """Production's logging."""
    with _logging(LogFormat.json) as stream:
        yield stream


def _requests(stream: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in lines if line.get("event") == "request"]


class TestRequestLines:
    async def test_a_request_is_one_json_line_with_who_and_how_and_no_personal_data(
        self, json_logs: io.StringIO, world: World
    ) -> None:
        await world.customers([{"last_name": NAME, "phone_1": PHONE}])
        client, (agent, token), tenant = world.client, world.agents[0], world.tenant
        auth = {**world.auth(token), "X-Request-ID": "search-0001"}

        found = await client.get("/v1/customers/search", params={"q": NAME}, headers=auth)
        card = await world.next()

        assert found.status_code == 200 and found.json()["items"]
        assert card.json()["customer"]["last_name"] == NAME
        assert found.headers["x-request-id"] == "search-0001"
        search, served = _requests(json_logs)
        assert search == {
            "event": "request",
            "level": "info",
            "logger": "nextcall.access",
            "timestamp": search["timestamp"],
            "request_id": "search-0001",
            "tenant_id": tenant.id,
            "user_id": agent.id,
            "method": "GET",
            "route": "/v1/customers/search",
            "status": 200,
            "duration_ms": search["duration_ms"],
        }
        assert search["duration_ms"] > 0
        assert served["route"] == "/v1/assignments/{assignment_id}/next"
        assert (served["tenant_id"], served["user_id"], served["status"]) == (
            tenant.id,
            agent.id,
            200,
        )
        text = json_logs.getvalue()
        for personal in (NAME, "gard", PHONE, "91234567"):
            assert personal not in text

    async def test_a_request_without_a_token_is_logged_without_tenant_or_user(
        self, json_logs: io.StringIO, client: httpx.AsyncClient
    ) -> None:
        answer = await client.get("/v1/me", headers={"X-Request-ID": "bad id with spaces"})

        (line,) = _requests(json_logs)
        assert answer.status_code == 401
        assert (line["status"], line["route"]) == (401, "/v1/me")
        assert "tenant_id" not in line and "user_id" not in line
        # An id that is not a plain token is replaced, not logged.
        assert line["request_id"] == answer.headers["x-request-id"] != "bad id with spaces"


class TestPersonalData:
    def test_keys_that_hold_personal_data_are_removed(self) -> None:
        event = {"event": "x", "phone": PHONE, "name": NAME, "customer_id": 7}

        cleaned = drop_personal(None, "info", event)

        assert cleaned == {
            "event": "x",
            "phone": "[removed]",
            "name": "[removed]",
            "customer_id": 7,
        }


class TestDevelopment:
    def test_lines_are_text(self) -> None:
        with _logging(LogFormat.text) as stream:
            logging.getLogger("nextcall.test").info("hello", extra={"customer_id": 7})

        line = stream.getvalue()
        assert "hello" in line and "customer_id=7" in line
        assert not line.startswith("{")


class TestPathsAndQueries:
    async def test_no_path_value_or_query_of_any_route_reaches_the_log(
        self, json_logs: io.StringIO, world: World, app: FastAPI
    ) -> None:
        """Every route of the API, its parameters filled with a name and a phone number and
        a search's query string: the lines name route templates only (issue 15 point 6),
        and the HTTP client's own request lines (full URLs) are not logged either."""
        auth = world.auth(world.agents[0][1])
        templates = [p for p in app.openapi()["paths"] if "{" in p]
        for value in (NAME, PHONE.lstrip("+")):
            for template in templates:
                path = re.sub(r"\{[^}]+\}", value, template)
                for method in ("GET", "POST"):
                    await world.client.request(method, path, headers=auth)
        await world.client.get("/v1/customers/search", params={"q": NAME}, headers=auth)
        await world.client.get(f"/v1/{NAME}/{PHONE}", params={"q": NAME}, headers=auth)

        lines = _requests(json_logs)
        assert len(lines) == 4 * len(templates) + 2
        assert {line["route"] for line in lines} <= {*app.openapi()["paths"], "unmatched"}
        text = json_logs.getvalue()
        for personal in (NAME, "gard", PHONE.lstrip("+"), "91234567"):
            assert personal not in text
