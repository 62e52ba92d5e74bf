"""The OpenAPI document builds: clients and request fuzzers are generated from it."""

import httpx


async def test_the_schema_documents_every_route(client: httpx.AsyncClient) -> None:
    r = await client.get("/openapi.json")
    assert r.status_code == 200, r.text
    paths = r.json()["paths"]
    for path in ("/v1/assignments/{assignment_id}/next", "/v1/me/events", "/v1/reports/activity"):
        assert path in paths
    stream = paths["/v1/me/events"]["get"]["responses"]["200"]["content"]
    assert "text/event-stream" in stream
