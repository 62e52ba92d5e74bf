"""Tokens narrower than their user, with an expiry and a last-used time (DESIGN 3.8)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from shared.models import Permission
from tests.api.orgs import Org


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _new_token(acme: Org, role: str, body: dict[str, Any]) -> httpx.Response:
    return await acme.post(f"/v1/users/{acme.users[role].id}/tokens", body)


class TestScopes:
    async def test_a_scoped_token_may_do_only_its_scopes(self, acme: Org) -> None:
        scoped = {"name": "reports", "scopes": [Permission.reporting.value]}
        r = await _new_token(acme, "admin", scoped)
        assert r.status_code == 201, r.text
        assert r.json()["scopes"] == ["reporting"]
        token = r.json()["token"]

        me = await acme.client.get("/v1/me", headers=bearer(token))
        users = await acme.client.get("/v1/users", headers=bearer(token))

        # The administrator's token carries only reporting: no user administration.
        assert me.json()["permissions"] == ["reporting"]
        assert users.status_code == 403

    async def test_a_scope_the_user_lacks_is_refused(self, acme: Org) -> None:
        r = await _new_token(acme, "agent", {"name": "x", "scopes": ["reporting"]})

        assert r.status_code == 422
        assert r.json()["code"] == "scope_not_held"
        listed = await acme.get(f"/v1/users/{acme.users['agent'].id}/tokens")
        assert len(listed.json()["items"]) == 1  # nothing created

    async def test_an_unscoped_token_follows_its_users_permissions(self, acme: Org) -> None:
        r = await _new_token(acme, "agent", {"name": "softphone"})

        assert r.json()["scopes"] is None
        me = await acme.client.get("/v1/me", headers=bearer(r.json()["token"]))
        assert me.json()["permissions"] == ["customer_handling"]


class TestExpiry:
    async def test_an_expiry_in_the_past_is_refused(self, acme: Org) -> None:
        past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()

        r = await _new_token(acme, "agent", {"name": "x", "expires_at": past})

        assert r.status_code == 422

    async def test_a_token_expiring_later_works_until_then(self, acme: Org) -> None:
        later = datetime.now(UTC) + timedelta(hours=1)
        r = await _new_token(acme, "agent", {"name": "x", "expires_at": later.isoformat()})

        assert r.status_code == 201
        assert datetime.fromisoformat(r.json()["expires_at"]) == later
        me = await acme.client.get("/v1/me", headers=bearer(r.json()["token"]))
        assert me.status_code == 200


class TestListing:
    async def test_lists_the_tenants_tokens_with_last_use(self, acme: Org, globex: Org) -> None:
        before = datetime.now(UTC)
        assert (await acme.get("/v1/me", role="agent")).status_code == 200

        r = await acme.get("/v1/tokens")

        assert r.status_code == 200
        by_user = {t["user_id"]: t for t in r.json()["items"]}
        assert set(by_user) == {u.id for u in acme.users.values()}
        agent = by_user[acme.users["agent"].id]
        assert datetime.fromisoformat(agent["last_used_at"]) >= before - timedelta(seconds=1)
        assert agent["status"] == "active"

    async def test_needs_the_administrator_permission(self, acme: Org) -> None:
        assert (await acme.get("/v1/tokens", role="setup")).status_code == 403
