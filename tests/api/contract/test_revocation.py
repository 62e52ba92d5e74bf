"""A revoked or expired token is refused by every API process within a second (DESIGN 3.8,
issue 14): the revocation is published to every process's principal cache, and a cache entry
never outlives its token's expiry."""

import time
from datetime import UTC, datetime, timedelta

import httpx
from redis.asyncio import Redis

from tests.api.api_process import ApiProcess
from tests.api.contract.conftest import Callers, bearer, get

WITHIN_S = 1.0


def _refused_after(api: ApiProcess, token: str, *, since: float) -> float:
    """Seconds from `since` until `api` answers 401 to `token` (polled every 20 ms)."""
    while True:
        status = get(api, "/v1/me", token).status_code
        if status == 401:
            return time.monotonic() - since
        assert status == 200, status
        assert time.monotonic() - since < 5 * WITHIN_S, "still accepted after 5 s"
        time.sleep(0.02)


class TestRevocation:
    def test_a_revoked_token_is_refused_by_every_process_within_a_second(
        self, apis: list[ApiProcess], callers: Callers, redis: Redis
    ) -> None:
        first, second = apis
        # Both processes have the agent's token in their cache.
        assert get(first, "/v1/me", callers.agent_token).status_code == 200
        assert get(second, "/v1/me", callers.agent_token).status_code == 200
        tokens = get(first, "/v1/tokens", callers.admin_token, user_id=str(callers.agent.id))
        [token] = tokens.json()["items"]
        assert token["status"] == "active" and token["last_used_at"] is not None

        revoked_at = time.monotonic()
        r = httpx.delete(
            f"{first.url}/v1/tokens/{token['id']}", headers=bearer(callers.admin_token), timeout=10
        )

        assert r.status_code == 200 and r.json()["status"] == "revoked"
        assert _refused_after(second, callers.agent_token, since=revoked_at) < WITHIN_S
        assert get(first, "/v1/me", callers.agent_token).status_code == 401

    def test_a_deactivated_user_is_refused_by_every_process_within_a_second(
        self, apis: list[ApiProcess], callers: Callers, redis: Redis
    ) -> None:
        first, second = apis
        assert get(second, "/v1/me", callers.agent_token).status_code == 200

        changed_at = time.monotonic()
        r = httpx.patch(
            f"{first.url}/v1/users/{callers.agent.id}",
            json={"active": False},
            headers=bearer(callers.admin_token),
            timeout=10,
        )

        assert r.status_code == 200
        assert _refused_after(second, callers.agent_token, since=changed_at) < WITHIN_S


class TestExpiry:
    def test_an_expired_token_is_refused_by_every_process_at_its_expiry(
        self, apis: list[ApiProcess], callers: Callers, redis: Redis
    ) -> None:
        first, second = apis
        expires_at = datetime.now(UTC) + timedelta(seconds=5)
        r = httpx.post(
            f"{first.url}/v1/users/{callers.agent.id}/tokens",
            json={"name": "short", "expires_at": expires_at.isoformat()},
            headers=bearer(callers.admin_token),
            timeout=10,
        )
        assert r.status_code == 201, r.text
        token = r.json()["token"]
        assert get(first, "/v1/me", token).status_code == 200
        assert get(second, "/v1/me", token).status_code == 200  # cached by both

        left_s = (expires_at - datetime.now(UTC)).total_seconds()
        assert left_s > 0, "the machine was too slow to use the token before it expired"
        time.sleep(left_s)
        expired = time.monotonic()

        assert _refused_after(first, token, since=expired) < WITHIN_S
        assert _refused_after(second, token, since=expired) < WITHIN_S
        listed = get(first, "/v1/tokens", callers.admin_token, user_id=str(callers.agent.id))
        assert [t["status"] for t in listed.json()["items"]] == ["active", "expired"]
