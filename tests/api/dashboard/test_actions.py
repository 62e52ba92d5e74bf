"""The dashboard's live stream, its force release (forgery-protected) and its CSV."""

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.dashboard.router import TICK_S
from services.api.dashboard.session import COOKIE
from services.queue import AssignmentQueue
from shared.models import Permission
from tests.api.dashboard.conftest import Desk, form_token, make_desk, sign_in
from tests.api.live.sse import EventStream
from tests.factories import create_user


async def _card(client: httpx.AsyncClient, desk: Desk) -> dict[str, Any]:
    answer = await client.post(f"/v1/assignments/{desk.assignment.id}/next", headers=desk.agent())
    assert answer.status_code == 200, answer.text
    card: dict[str, Any] = answer.json()
    return card


async def _take(client: httpx.AsyncClient, desk: Desk) -> int:
    customer_id: int = (await _card(client, desk))["customer"]["id"]
    return customer_id


async def _signed_in(client: httpx.AsyncClient, token: str) -> str:
    """Sign in; the session's form token."""
    assert (await sign_in(client, token)).status_code == 303
    return form_token((await client.get("/dashboard")).text)


def _stream(app: FastAPI, client: httpx.AsyncClient, **query: str) -> EventStream:
    cookie = f"{COOKIE}={client.cookies.get(COOKIE, path='/dashboard')}"
    return EventStream(app, "/dashboard/live", headers={"cookie": cookie}, query=query)


class TestForceRelease:
    async def test_without_the_session_form_token_nothing_is_released(
        self, client: httpx.AsyncClient, redis: Redis, desk: Desk
    ) -> None:
        customer = await _take(client, desk)
        await _signed_in(client, desk.supervisor_token)
        answer = await client.post(
            f"/dashboard/customers/{customer}/force-release", data={"csrf": "forged"}
        )
        assert answer.status_code == 403
        assert answer.json()["code"] == "csrf"
        assert await AssignmentQueue(redis, desk.assignment.id).holder(customer) is not None

    async def test_with_it_the_customer_goes_back_to_the_queue(
        self, client: httpx.AsyncClient, redis: Redis, desk: Desk
    ) -> None:
        customer = await _take(client, desk)
        csrf = await _signed_in(client, desk.supervisor_token)
        answer = await client.post(
            f"/dashboard/customers/{customer}/force-release",
            data={"csrf": csrf, "back": "https://elsewhere.example/"},
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/dashboard?notice=released"
        assert await AssignmentQueue(redis, desk.assignment.id).holder(customer) is None
        again = await client.post(
            f"/dashboard/customers/{customer}/force-release", data={"csrf": csrf}
        )
        assert again.headers["location"] == "/dashboard?notice=not-held"

    async def test_it_needs_extended_handling(
        self, client: httpx.AsyncClient, session: AsyncSession, redis: Redis, desk: Desk
    ) -> None:
        customer = await _take(client, desk)
        _, token = await create_user(
            session, desk.tenant, name="Reporter", permissions=[Permission.reporting.value]
        )
        csrf = await _signed_in(client, token)
        assert "Force release" not in (await client.get("/dashboard")).text
        answer = await client.post(
            f"/dashboard/customers/{customer}/force-release", data={"csrf": csrf}
        )
        assert answer.status_code == 403
        assert await AssignmentQueue(redis, desk.assignment.id).holder(customer) is not None


class TestActivityCsv:
    async def test_todays_report_of_the_assignment(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        card = await _card(client, desk)
        sold = await client.post(
            f"/v1/customers/{card['customer']['id']}/outcomes",
            json={
                "lease_id": card["lease"]["id"],
                "version": card["membership"]["version"],
                "code": "sale",
            },
            headers=desk.agent(),
        )
        assert sold.status_code == 200, sold.text
        await _signed_in(client, desk.supervisor_token)
        page = await client.get(f"/dashboard/assignments/{desk.assignment.id}")
        assert page.status_code == 200
        assert "<title>" in page.text and " sale: 1</title>" in page.text
        assert "activity.csv" in page.text
        answer = await client.get(f"/dashboard/assignments/{desk.assignment.id}/activity.csv")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/csv")
        header, row = answer.text.splitlines()
        assert header.startswith("user_id,user_name")
        assert row.startswith(f"{desk.agent_id},")

    async def test_it_needs_the_reporting_permission(
        self, client: httpx.AsyncClient, session: AsyncSession, desk: Desk
    ) -> None:
        _, token = await create_user(
            session, desk.tenant, name="Setup", permissions=[Permission.assignment_setup.value]
        )
        await _signed_in(client, token)
        page = await client.get(f"/dashboard/assignments/{desk.assignment.id}")
        assert "activity.csv" not in page.text
        answer = await client.get(f"/dashboard/assignments/{desk.assignment.id}/activity.csv")
        assert answer.status_code == 403


class TestLive:
    async def test_the_stream_sends_the_live_part_and_then_its_changes(
        self, app: FastAPI, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        await _signed_in(client, desk.supervisor_token)
        a = desk.assignment.id
        async with _stream(app, client) as stream:
            assert stream.status == 200
            first = await stream.next_event()
            assert first.event == "update"
            assert f'data-testid="held-{a}">0<' in first.json()["html"]
            # Nothing changes for a few ticks: nothing is sent, so the next event is the claim.
            await asyncio.sleep(3 * TICK_S)
            await _take(client, desk)
            changed = await stream.next_event(within_s=3.0)
            assert f'data-testid="held-{a}">1<' in changed.json()["html"]

    async def test_without_a_session_there_is_no_stream(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        answer = await client.get("/dashboard/live")
        assert answer.status_code == 401
        assert answer.json()["code"] == "not_signed_in"

    async def test_another_tenants_assignment_is_not_found(
        self, client: httpx.AsyncClient, session: AsyncSession, redis: Redis, desk: Desk
    ) -> None:
        other = await make_desk(session, redis, name="Fjord")
        await _signed_in(client, other.supervisor_token)
        answer = await client.get(f"/dashboard/live?assignment_id={desk.assignment.id}")
        assert answer.status_code == 404
        page = await client.get("/dashboard")
        assert desk.assignment.name not in page.text
        assert other.assignment.name in page.text
