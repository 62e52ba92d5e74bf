"""Every list walked to its end over real HTTP, a small page at a time, while rows are added
between pages: each row that was there when the walk began is seen, and no row twice; and
every list refuses a cursor it did not hand out and a limit out of range (decision 026).

One test per list does both, on one tenant, against one `nextcall api` process shared by the
package (conftest.py)."""

import re
from typing import Any

import pytest

from services.api.pagination import MAX_LIMIT
from services.api.problems import PROBLEM_JSON
from tests.api.pagination.desk import Desk, desk
from tests.api.pagination.lists import LISTS, PagedList

__all__ = ["desk"]

ROWS = 5
PAGE = 2
LINK = re.compile(r'^<(/v1/[^>]+)>; rel="next"$')
# Not base64url JSON, not a list, a key of the wrong type, nothing but a list's name.
NOT_CURSORS = ("-_", "bm90LWpzb24", "e30", "WyJ1c2VycyIsICJ4Il0", "WyJ1c2VycyJd")


def _ident(paged: PagedList, item: dict[str, Any]) -> Any:
    found: Any = item
    for name in paged.ident.split("."):
        found = found[name]
    return found


async def _everything(desk: Desk, paged: PagedList) -> list[Any]:
    """The whole list in one page: what a walk must see."""
    params = {**paged.params(desk), "limit": str(MAX_LIMIT)}
    r = await desk.client.get(paged.url(desk), params=params, headers=desk.auth())
    assert r.status_code == 200, r.text
    assert r.json()["next"] is None
    return [_ident(paged, item) for item in r.json()["items"]]


async def _walk(desk: Desk, paged: PagedList) -> list[Any]:
    """Every item's identity, page by page, following the Link header; one row is added
    after each page."""
    seen: list[Any] = []
    url: str = paged.url(desk)
    params: dict[str, str] | None = {**paged.params(desk), "limit": str(PAGE)}
    for _ in range(10 * ROWS):
        r = await desk.client.get(url, params=params, headers=desk.auth())
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["limit"] == PAGE
        assert 0 < len(page["items"]) <= PAGE
        seen += [_ident(paged, item) for item in page["items"]]
        if page["next"] is None:
            assert "link" not in r.headers
            return seen
        link = LINK.match(r.headers["link"])
        assert link is not None, r.headers["link"]
        # The next request is the Link header's URL: it keeps the query and sets the cursor.
        url, params = link.group(1), None
        assert f"cursor={page['next']}" in url
        await paged.add(desk)
    pytest.fail("the walk did not end")


async def _refused(desk: Desk, paged: PagedList, **query: str) -> dict[str, Any]:
    params = {**paged.params(desk), **query}
    r = await desk.client.get(paged.url(desk), params=params, headers=desk.auth())
    assert r.status_code == 422, (query, r.text)
    assert r.headers["content-type"] == PROBLEM_JSON
    problem: dict[str, Any] = r.json()
    return problem


async def _another_lists_cursor(desk: Desk, paged: PagedList) -> str:
    other = LISTS["users"] if paged is not LISTS["users"] else LISTS["flows"]
    for _ in range(2):
        await other.add(desk)
    params = {**other.params(desk), "limit": "1"}
    r = await desk.client.get(other.url(desk), params=params, headers=desk.auth())
    cursor: str = r.json()["next"]
    assert cursor is not None
    return cursor


@pytest.mark.parametrize("paged", LISTS.values(), ids=LISTS.keys())
async def test_a_list_pages_by_cursor(desk: Desk, paged: PagedList) -> None:
    added = [await paged.add(desk) for _ in range(ROWS)]
    at_start = await _everything(desk, paged)
    assert set(added) <= set(at_start)

    seen = await _walk(desk, paged)

    assert len(seen) == len(set(seen)), f"rows seen twice: {seen}"
    assert set(at_start) <= set(seen), f"rows missed: {set(at_start) - set(seen)}"
    for cursor in (*NOT_CURSORS, await _another_lists_cursor(desk, paged)):
        problem = await _refused(desk, paged, cursor=cursor)
        assert problem["code"] == "invalid_cursor"
        assert problem["errors"][0]["loc"] == ["query", "cursor"]
    for limit in (str(MAX_LIMIT + 1), "0"):
        problem = await _refused(desk, paged, limit=limit)
        assert problem["code"] == "invalid"
        assert problem["errors"][0]["loc"] == ["query", "limit"]
