"""The schema says every list is paged the one way, and every paged list is walked by
test_walk: a new list without `cursor` and `limit`, or one missing from LISTS, fails here."""

from typing import Any

import httpx

from tests.api.pagination.lists import LISTS

# The ways lists paged before decision 026.
OTHER_WAYS = {"offset", "after_id", "before_id", "errors_offset"}


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    found: dict[str, Any] = document
    for part in ref.removeprefix("#/").split("/"):
        found = found[part]
    return found


def _answer(operation: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    ok = operation.get("responses", {}).get("200", {})
    schema = ok.get("content", {}).get("application/json", {}).get("schema", {})
    return _resolve(schema, document)


async def test_every_list_is_a_page_with_cursor_limit_and_next(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    paged = set()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            answer = _answer(operation, document)
            assert answer.get("type") != "array", f"{method} {path} answers a bare list"
            properties = answer.get("properties", {})
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            assert not names & OTHER_WAYS, f"{method} {path} pages another way"
            if properties.get("items", {}).get("type") != "array":
                continue
            assert {"cursor", "limit"} <= names, f"{method} {path} lists without paging"
            assert {"limit", "next"} <= set(properties), f"{method} {path}: no next"
            assert "Link" in operation["responses"]["200"].get("headers", {}), path
            paged.add(path)
    assert paged == {p.operation or p.path for p in LISTS.values()}


async def test_my_work_previews_continue_in_their_lists(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    my_work = _answer(document["paths"]["/v1/my-work"]["get"], document)
    for name, member in my_work["properties"].items():
        if "$ref" in member:
            assert "next" in _resolve(member, document)["properties"], name
