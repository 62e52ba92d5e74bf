"""CORS: browser pages on the configured origins may call the API; others may not, and with
no origin configured (the default) no cross-origin call is allowed."""

import httpx

from tests.api.api_process import ApiProcess
from tests.api.contract.conftest import ORIGIN, Callers, bearer

PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization,content-type",
}


def _preflight(url: str, origin: str) -> httpx.Response:
    return httpx.options(url, headers={"Origin": origin, **PREFLIGHT}, timeout=10)


class TestConfiguredOrigins:
    def test_a_preflight_from_an_allowed_origin_is_allowed(self, apis: list[ApiProcess]) -> None:
        r = _preflight(f"{apis[0].url}/v1/assignments/1/next", ORIGIN)

        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == ORIGIN
        assert "POST" in r.headers["access-control-allow-methods"]
        assert "authorization" in r.headers["access-control-allow-headers"].lower()

    def test_a_preflight_from_another_origin_is_refused(self, apis: list[ApiProcess]) -> None:
        r = _preflight(f"{apis[1].url}/v1/assignments/1/next", "https://elsewhere.example")

        assert r.status_code == 400
        assert "access-control-allow-origin" not in r.headers

    def test_an_allowed_origins_call_carries_the_headers_a_browser_needs(
        self, apis: list[ApiProcess], callers: Callers
    ) -> None:
        r = httpx.get(
            f"{apis[0].url}/v1/me",
            headers={"Origin": ORIGIN, **bearer(callers.agent_token)},
            timeout=10,
        )

        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == ORIGIN
        assert "retry-after" in r.headers["access-control-expose-headers"].lower()


async def test_no_origin_is_allowed_by_default(client: httpx.AsyncClient) -> None:
    r = await client.options("/v1/assignments/1/next", headers={"Origin": ORIGIN, **PREFLIGHT})

    assert "access-control-allow-origin" not in r.headers
