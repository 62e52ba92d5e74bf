"""Every request counted and timed under its route template, the hot paths' too."""

import httpx
from prometheus_client import REGISTRY

from services.api.observe import UNMATCHED, RouteNames, routed_template
from tests.api.world import World

NEXT = "/v1/assignments/{assignment_id}/next"


def _count(route: str, method: str, status: int) -> float:
    labels = {"route": route, "method": method, "status": str(status)}
    return REGISTRY.get_sample_value("nextcall_http_requests_total", labels) or 0.0


def _timed(route: str, method: str) -> float:
    labels = {"route": route, "method": method}
    return REGISTRY.get_sample_value("nextcall_http_request_duration_seconds_count", labels) or 0.0


class TestObserve:
    async def test_hot_paths_fastapi_routes_and_unknown_paths_by_template(
        self, world: World
    ) -> None:
        await world.customers([{}])
        client, auth = world.client, world.auth(world.agents[0][1])
        before = (
            _count(NEXT, "POST", 200),
            _timed(NEXT, "POST"),
            _count("/v1/assignments/{assignment_id}", "GET", 404),
            _count(UNMATCHED, "GET", 404),
        )

        assert (await world.next()).is_success
        assert (await client.get("/v1/assignments/999999", headers=auth)).status_code == 404
        assert (await client.get(f"/v1/nothing/{world.assignment.id}/here")).status_code == 404

        after = (
            _count(NEXT, "POST", 200),
            _timed(NEXT, "POST"),
            _count("/v1/assignments/{assignment_id}", "GET", 404),
            _count(UNMATCHED, "GET", 404),
        )
        assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1, 1]

    async def test_the_request_id_is_kept_when_plain_and_made_otherwise(
        self, client: httpx.AsyncClient
    ) -> None:
        kept = await client.get("/healthz", headers={"X-Request-ID": "abc-123.def_456"})
        made = await client.get("/healthz", headers={"X-Request-ID": "x" * 65})

        assert kept.headers["x-request-id"] == "abc-123.def_456"
        assert len(made.headers["x-request-id"]) == 32


class TestRouteNames:
    def test_literal_tails_first_then_parameters(self) -> None:
        names = RouteNames(
            ["/v1/customers/search", "/v1/customers/{customer_id}", "/v1/me/events", "/healthz"]
        )

        assert names.name("/v1/customers/search") == "/v1/customers/search"
        assert names.name("/v1/customers/12") == "/v1/customers/{customer_id}"
        assert names.name("/v1/customers/events") == "/v1/customers/{customer_id}"
        assert names.name("/v1/other/12/events") == UNMATCHED

    def test_a_routed_template_gets_its_routers_prefix_and_no_ids(self) -> None:
        class Route:
            path = "/things/{thing_id}"

        assert routed_template(Route(), "/v1/things/3") == "/v1/things/{thing_id}"
        assert routed_template(Route(), "/v1/7/things/3") == "/v1/{id}/things/{thing_id}"
        assert routed_template(None, "/v1/things/3") is None
