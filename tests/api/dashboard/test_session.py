"""Signing in to the dashboard: a token for a cookie, for supervisors only."""

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.dashboard.session import COOKIE
from shared.models import ApiToken, Permission
from tests.api.dashboard.conftest import Desk, form_token, sign_in
from tests.factories import create_user


def _session_cookie_set(answer: httpx.Response) -> bool:
    return any(h.startswith(COOKIE + "=") for h in answer.headers.get_list("set-cookie"))


class TestSignIn:
    async def test_without_a_session_the_page_is_the_sign_in_form(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        page = await client.get("/dashboard")
        assert page.status_code == 200
        assert 'action="/dashboard/sign-in"' in page.text
        assert desk.assignment.name not in page.text

    async def test_a_supervisor_token_becomes_an_httponly_samesite_cookie(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        answer = await sign_in(client, desk.supervisor_token)
        assert answer.status_code == 303
        cookie = next(
            h for h in answer.headers.get_list("set-cookie") if h.startswith(COOKIE + "=")
        )
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Path=/dashboard" in cookie
        assert desk.supervisor_token not in cookie
        page = await client.get("/dashboard")
        assert desk.assignment.name in page.text
        assert page.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]

    async def test_an_agent_gets_no_page(self, client: httpx.AsyncClient, desk: Desk) -> None:
        answer = await sign_in(client, desk.agent_token)
        assert answer.status_code == 403
        assert not _session_cookie_set(answer)
        assert desk.assignment.name not in (await client.get("/dashboard")).text

    async def test_an_unknown_token_is_refused(self, client: httpx.AsyncClient, desk: Desk) -> None:
        answer = await sign_in(client, "nc_not-a-token")
        assert answer.status_code == 401
        assert "Unknown or revoked token" in answer.text

    async def test_the_form_must_come_from_the_sign_in_page(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        answer = await client.post(
            "/dashboard/sign-in", data={"token": desk.supervisor_token, "csrf": "forged"}
        )
        assert answer.status_code == 403
        assert not _session_cookie_set(answer)

    async def test_a_revoked_token_ends_the_session(
        self, client: httpx.AsyncClient, session: AsyncSession, desk: Desk
    ) -> None:
        await sign_in(client, desk.supervisor_token)
        await session.execute(update(ApiToken).values(revoked_at=ApiToken.created_at))
        await session.commit()
        client._transport.app.state.resources.principals._entries.clear()  # type: ignore[attr-defined]
        page = await client.get("/dashboard")
        assert 'action="/dashboard/sign-in"' in page.text
        assert desk.assignment.name not in page.text

    async def test_sign_out_needs_the_session_form_token(
        self, client: httpx.AsyncClient, desk: Desk
    ) -> None:
        await sign_in(client, desk.supervisor_token)
        page = await client.get("/dashboard")
        assert (await client.post("/dashboard/sign-out", data={"csrf": "x"})).status_code == 403
        out = await client.post("/dashboard/sign-out", data={"csrf": form_token(page.text)})
        assert out.status_code == 303
        assert desk.assignment.name not in (await client.get("/dashboard")).text


class TestWhoSeesWhat:
    async def test_assignment_setup_alone_is_enough(
        self, client: httpx.AsyncClient, session: AsyncSession, desk: Desk
    ) -> None:
        _, token = await create_user(
            session, desk.tenant, name="Setup", permissions=[Permission.assignment_setup.value]
        )
        assert (await sign_in(client, token)).status_code == 303
        assert desk.assignment.name in (await client.get("/dashboard")).text

    async def test_an_assignment_closed_to_a_reporter_is_not_shown(
        self, client: httpx.AsyncClient, session: AsyncSession, desk: Desk
    ) -> None:
        _, token = await create_user(
            session, desk.tenant, name="Reporter", permissions=[Permission.reporting.value]
        )
        desk.assignment.visible_to_all = False
        session.add(desk.assignment)
        await session.commit()
        await sign_in(client, token)
        page = await client.get("/dashboard")
        assert desk.assignment.name not in page.text
        assert 'data-testid="no-assignments"' in page.text
        gone = await client.get(f"/dashboard/assignments/{desk.assignment.id}")
        assert gone.status_code == 404
