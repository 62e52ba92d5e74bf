"""Rate limits hold across API processes: a burst spread over two processes is cut at the
limit, answered 429 with Retry-After and the project's error body (issue 14, point 4)."""

import itertools

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from tests.api.api_process import ApiProcess
from tests.api.contract.conftest import (
    FAILURES_PER_ADDRESS,
    FAILURES_PER_TOKEN,
    SEARCHES_PER_MINUTE,
    Callers,
    get,
)
from tests.factories import create_user


def _assert_limited(response: httpx.Response, code: str = "rate_limited") -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["retry-after"]) <= 60
    body = response.json()
    assert body["code"] == code and body["detail"]


class TestExpensiveEndpoints:
    def test_a_burst_of_searches_over_two_processes_is_cut_at_the_limit(
        self, apis: list[ApiProcess], callers: Callers, redis: Redis
    ) -> None:
        burst = SEARCHES_PER_MINUTE + 6
        answers = [
            get(api, "/v1/customers/search", callers.agent_token, q="ode")
            for api, _ in zip(itertools.cycle(apis), range(burst), strict=False)
        ]

        # Each process saw only half the burst, under the limit: the count is shared.
        assert [a.status_code for a in answers[:SEARCHES_PER_MINUTE]] == [200] * SEARCHES_PER_MINUTE
        for refused in answers[SEARCHES_PER_MINUTE:]:
            _assert_limited(refused)

    def test_the_limit_is_per_token(
        self, apis: list[ApiProcess], callers: Callers, redis: Redis
    ) -> None:
        for _ in range(SEARCHES_PER_MINUTE):
            assert (
                get(apis[0], "/v1/customers/search", callers.agent_token, q="a").status_code == 200
            )
        _assert_limited(get(apis[1], "/v1/customers/search", callers.agent_token, q="a"))

        other = get(apis[1], "/v1/customers/search", callers.admin_token, q="a")

        assert other.status_code == 200


class TestAuthenticationFailures:
    def test_one_bad_token_repeated_over_two_processes_is_refused_past_its_limit(
        self, apis: list[ApiProcess], callers: Callers, redis: Redis
    ) -> None:
        bad = callers.agent_token + "x"
        answers = [
            get(api, "/v1/me", bad).status_code
            for api, _ in zip(itertools.cycle(apis), range(FAILURES_PER_TOKEN), strict=False)
        ]
        assert answers == [401] * FAILURES_PER_TOKEN

        _assert_limited(get(apis[0], "/v1/me", bad))
        _assert_limited(get(apis[1], "/v1/me", bad))
        # The address is still within its own budget: a good token works.
        assert get(apis[1], "/v1/me", callers.agent_token).status_code == 200

    async def test_an_address_sending_many_bad_tokens_is_refused_but_known_tokens_work(
        self, apis: list[ApiProcess], callers: Callers, redis: Redis, session: AsyncSession
    ) -> None:
        # Known to both processes before the attack: served from their caches.
        for api in apis:
            assert get(api, "/v1/me", callers.agent_token).status_code == 200
        for n in range(FAILURES_PER_ADDRESS):
            assert get(apis[n % 2], "/v1/me", f"nc_guess{n}").status_code == 401

        _assert_limited(get(apis[0], "/v1/me", "nc_another_guess"))
        _, fresh = await create_user(session, callers.tenant, name="New agent")
        _assert_limited(get(apis[1], "/v1/me", fresh))  # unknown to the process: not read
        assert get(apis[0], "/v1/me", callers.agent_token).status_code == 200
        assert get(apis[1], "/v1/me", callers.agent_token).status_code == 200


@pytest.mark.parametrize("path", ["/v1/customers/search?q=a", "/v1/me"])
async def test_429_is_documented_on_every_operation(client: httpx.AsyncClient, path: str) -> None:
    schema = (await client.get("/openapi.json")).json()
    operation = schema["paths"][path.split("?")[0]]["get"]
    assert operation["responses"]["429"]["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
