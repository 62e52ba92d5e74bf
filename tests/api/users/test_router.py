"""/v1/me, /v1/users and /v1/tokens over HTTP."""

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.infra.tokens import hash_token
from shared.models import ApiToken, User
from tests.api.orgs import Org


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestMe:
    async def test_returns_the_caller_with_tenant_and_permissions(self, acme: Org) -> None:
        r = await acme.get("/v1/me", role="agent")
        assert r.status_code == 200
        body = r.json()
        assert body["id"] == acme.users["agent"].id
        assert body["name"] == "Acme agent"
        assert body["tenant"]["id"] == acme.tenant.id
        assert body["tenant"]["name"] == "Acme"
        assert body["permissions"] == ["customer_handling"]

    async def test_without_a_token_answers_401(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/v1/me")
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"

    async def test_with_a_wrong_token_answers_401(
        self, client: httpx.AsyncClient, acme: Org
    ) -> None:
        r = await client.get("/v1/me", headers=bearer(acme.tokens["agent"] + "x"))
        assert r.status_code == 401


class TestListUsers:
    async def test_lists_only_the_callers_tenant(self, acme: Org, globex: Org) -> None:
        r = await acme.get("/v1/users")
        assert r.status_code == 200
        ids = {u["id"] for u in r.json()["items"]}
        assert ids == {u.id for u in acme.users.values()}

    async def test_needs_the_administrator_permission(self, acme: Org) -> None:
        r = await acme.get("/v1/users", role="setup")
        assert r.status_code == 403


class TestCreateUser:
    async def test_creates_a_user(self, acme: Org) -> None:
        body = {
            "name": "Kari",
            "email": "kari@example.com",
            "team": "Oslo",
            "permissions": ["customer_handling", "correction", "customer_handling"],
        }
        r = await acme.post("/v1/users", body)
        assert r.status_code == 201
        user = r.json()
        assert user["permissions"] == ["customer_handling", "correction"]
        assert user["active"] is True
        fetched = await acme.get(f"/v1/users/{user['id']}")
        assert fetched.json()["team"] == "Oslo"

    async def test_rejects_an_unknown_permission(self, acme: Org, session: AsyncSession) -> None:
        r = await acme.post("/v1/users", {"name": "Kari", "permissions": ["superuser"]})
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"][:2] == ["body", "permissions"]
        assert await session.scalar(select(User).where(User.name == "Kari")) is None

    async def test_rejects_malformed_json(self, client: httpx.AsyncClient, acme: Org) -> None:
        headers = {**acme.auth("admin"), "Content-Type": "application/json"}
        r = await client.post("/v1/users", content=b'{"name": "Kari",', headers=headers)
        assert r.status_code == 422

    async def test_rejects_text_the_database_cannot_store(self, acme: Org) -> None:
        r = await acme.post("/v1/users", {"name": "Ka\x00ri"})
        assert r.status_code == 422

    async def test_needs_the_administrator_permission(self, acme: Org) -> None:
        r = await acme.post("/v1/users", {"name": "Kari"}, role="setup")
        assert r.status_code == 403


class TestGetUser:
    async def test_returns_the_user(self, acme: Org) -> None:
        agent = acme.users["agent"]
        r = await acme.get(f"/v1/users/{agent.id}")
        assert r.status_code == 200
        assert r.json()["name"] == agent.name

    async def test_another_tenants_user_answers_404(self, acme: Org, globex: Org) -> None:
        r = await acme.get(f"/v1/users/{globex.users['agent'].id}")
        assert r.status_code == 404
        unknown = await acme.get("/v1/users/999999")
        assert unknown.json()["detail"].replace("999999", "N") == r.json()["detail"].replace(
            str(globex.users["agent"].id), "N"
        )

    async def test_an_id_past_bigint_answers_422(self, acme: Org) -> None:
        r = await acme.get(f"/v1/users/{2**64}")
        assert r.status_code == 422


class TestUpdateUser:
    async def test_new_permissions_take_effect_at_once(self, acme: Org) -> None:
        agent = acme.users["agent"]
        assert (await acme.get("/v1/users", role="agent")).status_code == 403
        r = await acme.patch(f"/v1/users/{agent.id}", {"permissions": ["administrator"]})
        assert r.status_code == 200
        assert r.json()["permissions"] == ["administrator"]
        assert (await acme.get("/v1/users", role="agent")).status_code == 200

    async def test_a_deactivated_users_tokens_answer_401(self, acme: Org) -> None:
        agent = acme.users["agent"]
        assert (await acme.get("/v1/me", role="agent")).status_code == 200
        r = await acme.patch(f"/v1/users/{agent.id}", {"active": False})
        assert r.status_code == 200
        assert (await acme.get("/v1/me", role="agent")).status_code == 401

    async def test_another_tenants_user_answers_404_and_stays_unchanged(
        self, acme: Org, globex: Org, session: AsyncSession
    ) -> None:
        target = globex.users["agent"]
        r = await acme.patch(f"/v1/users/{target.id}", {"active": False, "name": "X"})
        assert r.status_code == 404
        await session.refresh(target)
        assert (target.active, target.name) == (True, "Globex agent")

    async def test_the_last_administrator_cannot_demote_itself(self, acme: Org) -> None:
        admin = acme.users["admin"]
        r = await acme.patch(f"/v1/users/{admin.id}", {"permissions": ["reporting"]})
        assert r.status_code == 409
        assert (await acme.get("/v1/users")).status_code == 200

    async def test_an_administrator_may_step_down_when_another_remains(self, acme: Org) -> None:
        agent, admin = acme.users["agent"], acme.users["admin"]
        await acme.patch(f"/v1/users/{agent.id}", {"permissions": ["administrator"]})
        r = await acme.patch(f"/v1/users/{admin.id}", {"active": False})
        assert r.status_code == 200
        assert (await acme.get("/v1/users")).status_code == 401

    async def test_null_for_a_required_field_answers_422(self, acme: Org) -> None:
        r = await acme.patch(f"/v1/users/{acme.users['agent'].id}", {"name": None})
        assert r.status_code == 422


class TestCreateToken:
    async def test_the_token_is_shown_once_and_works(
        self, client: httpx.AsyncClient, acme: Org, session: AsyncSession
    ) -> None:
        agent = acme.users["agent"]
        r = await acme.post(f"/v1/users/{agent.id}/tokens", {"name": "softphone"})
        assert r.status_code == 201
        plain = r.json()["token"]
        me = await client.get("/v1/me", headers=bearer(plain))
        assert me.status_code == 200
        assert me.json()["id"] == agent.id
        stored = await session.scalar(select(ApiToken).where(ApiToken.id == r.json()["id"]))
        assert stored is not None
        assert stored.token_hash == hash_token(plain)
        listed = (await acme.get(f"/v1/users/{agent.id}/tokens")).json()["items"]
        assert plain not in str(listed)
        assert all("token" not in t and "token_hash" not in t for t in listed)

    async def test_for_another_tenants_user_answers_404(
        self, acme: Org, globex: Org, session: AsyncSession
    ) -> None:
        target = globex.users["agent"]
        r = await acme.post(f"/v1/users/{target.id}/tokens", {"name": "x"})
        assert r.status_code == 404
        tokens = await session.scalars(select(ApiToken).where(ApiToken.user_id == target.id))
        assert len(tokens.all()) == 1

    async def test_needs_the_administrator_permission(self, acme: Org) -> None:
        agent = acme.users["agent"]
        r = await acme.post(f"/v1/users/{agent.id}/tokens", {"name": "mine"}, role="agent")
        assert r.status_code == 403


class TestListTokens:
    async def test_lists_names_and_dates(self, acme: Org) -> None:
        agent = acme.users["agent"]
        await acme.post(f"/v1/users/{agent.id}/tokens", {"name": "softphone"})
        r = await acme.get(f"/v1/users/{agent.id}/tokens")
        assert r.status_code == 200
        assert [t["name"] for t in r.json()["items"]] == ["", "softphone"]
        assert set(r.json()["items"][1]) == {
            "id",
            "user_id",
            "name",
            "created_at",
            "revoked_at",
            "expires_at",
            "scopes",
            "last_used_at",
            "status",
        }

    async def test_another_tenants_user_answers_404(self, acme: Org, globex: Org) -> None:
        r = await acme.get(f"/v1/users/{globex.users['agent'].id}/tokens")
        assert r.status_code == 404


class TestRevokeToken:
    async def test_a_revoked_token_answers_401_at_once(
        self, client: httpx.AsyncClient, acme: Org
    ) -> None:
        agent = acme.users["agent"]
        created = (await acme.post(f"/v1/users/{agent.id}/tokens", {"name": "t"})).json()
        assert (await client.get("/v1/me", headers=bearer(created["token"]))).status_code == 200
        r = await acme.delete(f"/v1/tokens/{created['id']}")
        assert r.status_code == 200
        assert r.json()["revoked_at"] is not None
        assert (await client.get("/v1/me", headers=bearer(created["token"]))).status_code == 401
        assert (await acme.get("/v1/me", role="agent")).status_code == 200

    async def test_another_tenants_token_answers_404_and_keeps_working(
        self, acme: Org, globex: Org, session: AsyncSession
    ) -> None:
        token = await session.scalar(
            select(ApiToken).where(ApiToken.user_id == globex.users["agent"].id)
        )
        assert token is not None
        r = await acme.delete(f"/v1/tokens/{token.id}")
        assert r.status_code == 404
        assert (await globex.get("/v1/me", role="agent")).status_code == 200

    async def test_needs_the_administrator_permission(
        self, acme: Org, session: AsyncSession
    ) -> None:
        token = await session.scalar(
            select(ApiToken).where(ApiToken.user_id == acme.users["agent"].id)
        )
        assert token is not None
        r = await acme.delete(f"/v1/tokens/{token.id}", role="agent")
        assert r.status_code == 403
