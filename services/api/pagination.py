"""One way to page every list of the API (decision 026): a cursor, a limit and `next`.

A list is read in a stable and unique order, its keyset: the id, or sort columns ending in the
id. A page holds at most `limit` rows past the cursor's position; one row more is read to learn
whether another page follows. The answer is `{"items": [...], "limit": n, "next": cursor or
null}`, and `Link: <...>; rel="next"` says the same as a URL. A position, unlike an offset, does
not shift when rows are added: a walk to the end sees every row that existed when it began, and
none twice.

A cursor is base64url of the JSON `[list name, key...]`: opaque to clients, who pass it back as
it is, and checked on the way in. One that does not decode, or belongs to another list, answers
422 `invalid_cursor`.
"""

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Protocol, TypeVar

from fastapi import FastAPI, Query, Request, Response
from pydantic import AfterValidator, AwareDatetime, BaseModel, Field, TypeAdapter, ValidationError
from sqlalchemy import ColumnElement, Select, true, tuple_
from sqlalchemy.orm import QueryableAttribute

from services.api.errors import INVALID_INPUT
from shared.errors import Unprocessable
from shared.infra.storable import MAX_BIGINT, storable_text

DEFAULT_LIMIT = 50
# Every list has the same bounds. 500 rows of the widest item (a customer's event with its
# data) stay under a megabyte; a client that wants everything walks the pages.
MAX_LIMIT = 500
# A cursor holds a list name and a few keys (a name of up to 400 characters at most, in search).
MAX_CURSOR_CHARS = 2048
INVALID_CURSOR = "invalid_cursor"

K = TypeVar("K", bound=tuple[Any, ...])
T = TypeVar("T")
R = TypeVar("R")
P = TypeVar("P", bound="Page[Any]")
Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])

# The parts a key is made of, bounded like the columns they are compared with: a forged cursor
# answers 422, never a database error.
KeyId = Annotated[int, Field(ge=0, le=MAX_BIGINT)]
KeyText = Annotated[str, Field(max_length=400), AfterValidator(storable_text)]
KeyTime = AwareDatetime
# A column of a keyset: a mapped attribute or an expression (search's rank).
Column = ColumnElement[Any] | QueryableAttribute[Any]
# The key of the lists in id order, most of them.
IdKey = tuple[KeyId]

CursorQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_CURSOR_CHARS,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Where the page starts: the `next` of the previous page, passed back as it "
        "is. Leave it out for the first page.",
    ),
]
LimitQuery = Annotated[
    int,
    Query(ge=1, le=MAX_LIMIT, description=f"The most rows in the page (at most {MAX_LIMIT})."),
]


class Page(BaseModel, Generic[T]):
    """One page of a list; `next` leads to the following one."""

    items: list[T]
    limit: int = Field(description="The most rows a page holds: the request's `limit`.")
    next: str | None = Field(
        description="The cursor of the next page, to pass as `cursor`; null on the last page."
    )


class Keyset(Generic[K]):
    """A list's order: its name (a cursor of another list is refused) and its key's types."""

    def __init__(self, name: str, key: Any) -> None:
        """`key` is K itself (a tuple type): a variable declares `Keyset[K]` for the checker."""
        self.name = name
        self._key: TypeAdapter[K] = TypeAdapter(key)

    def encode(self, key: K) -> str:
        data = json.dumps([self.name, *self._key.dump_python(key, mode="json")])
        return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")

    def decode(self, cursor: str) -> K:
        try:
            raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
            data = json.loads(raw)
            if not isinstance(data, list) or not data or data[0] != self.name:
                raise ValueError("another list's cursor")
            return self._key.validate_python(tuple(data[1:]))
        except (ValueError, RecursionError, binascii.Error, ValidationError) as exc:
            raise invalid_cursor() from exc


class _HasId(Protocol):
    @property
    def id(self) -> int: ...


def by_id(row: _HasId) -> IdKey:
    return (row.id,)


def invalid_cursor() -> Unprocessable:
    message = "invalid cursor: pass back the `next` of a page of this same list, unchanged"
    return Unprocessable(
        message,
        code=INVALID_CURSOR,
        errors=[{"loc": ["query", "cursor"], "msg": message, "type": INVALID_CURSOR}],
    )


def past(
    columns: Sequence[Column], key: tuple[Any, ...] | None, *, descending: bool = False
) -> ColumnElement[bool]:
    """Rows after `key` in the order of `columns` (all ascending, or all descending). The
    values are bound with their columns' types (a row comparison binds each by its column)."""
    if key is None:
        return true()
    if len(columns) == 1:
        return columns[0] < key[0] if descending else columns[0] > key[0]
    row = tuple_(*columns)
    return row < key if descending else row > key


def ordered(columns: Sequence[Column], *, descending: bool = False) -> list[ColumnElement[Any]]:
    return [c.desc() if descending else c.asc() for c in columns]


@dataclass
class PageRequest(Generic[K]):
    """What a client asked for: the position after which the page starts, and its size."""

    keyset: Keyset[K]
    after: K | None
    limit: int
    # None for a page built inside another answer (My Work's previews): no Link header.
    request: Request | None = None
    response: Response | None = None

    @property
    def fetch(self) -> int:
        """Rows to read: one more than the page, to know whether another page follows."""
        return self.limit + 1

    def window(
        self, query: Q, *columns: Column, descending: bool = False, limited: bool = True
    ) -> Q:
        """`query` past the cursor, in keyset order, `fetch` rows (all with `limited=False`,
        for the few lists filtered in Python afterwards)."""
        query = query.where(past(columns, self.after, descending=descending)).order_by(
            *ordered(columns, descending=descending)
        )
        return query.limit(self.fetch) if limited else query

    def answer(
        self,
        model: type[P],
        rows: Sequence[R],
        *,
        key: Callable[[R], K],
        item: Callable[[R], Any] | None = None,
        **extra: Any,
    ) -> P:
        """The page of `rows` (read in keyset order, up to `fetch` of them; each made an item
        by `item`, or as they are), with `next` and the `Link` header when more follow."""
        kept = rows[: self.limit]
        cursor = self.keyset.encode(key(kept[-1])) if len(rows) > self.limit else None
        if cursor is not None and self.request is not None and self.response is not None:
            url = self.request.url.include_query_params(cursor=cursor)
            self.response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
        items = list(kept) if item is None else [item(r) for r in kept]
        return model(items=items, limit=self.limit, next=cursor, **extra)


def paging(keyset: Keyset[K]) -> Callable[..., Awaitable[PageRequest[K]]]:
    """The dependency that reads `cursor` and `limit` for one list (422 for a bad cursor)."""

    async def page_request(
        request: Request,
        response: Response,
        cursor: CursorQuery = None,
        limit: LimitQuery = DEFAULT_LIMIT,
    ) -> PageRequest[K]:
        after = None if cursor is None else keyset.decode(cursor)
        return PageRequest(keyset, after, limit, request, response)

    return page_request


_LINK_HEADER = {
    "Link": {
        "description": 'The next page as `<url>; rel="next"`; absent on the last page.',
        "schema": {"type": "string"},
    }
}


# What a paged list refuses beyond its schema: a cursor is opaque, its pattern is all a schema
# can say of it (decision 027's `refuses`, read by the fuzz run).
_CURSOR_REFUSED = "a cursor that is not, unchanged, the `next` of a page of this same list"


def _refuses_cursor(operation: dict[str, Any]) -> None:
    answer = operation["responses"].setdefault("422", {})
    said = answer.get("description", "")
    if said.startswith(f"{INVALID_INPUT}, or "):
        answer["description"] = f"{said}; or {_CURSOR_REFUSED}"
    else:
        answer["description"] = f"{INVALID_INPUT}, or {_CURSOR_REFUSED}"


def document_pages(app: FastAPI) -> None:
    """Every paged list's 200 answer documents its `Link` header in the schema, and its 422
    the cursors it refuses."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        for path in schema.get("paths", {}).values():
            operation = path.get("get", {})
            names = {p.get("name") for p in operation.get("parameters", [])}
            if "cursor" in names and "200" in operation.get("responses", {}):
                operation["responses"]["200"].setdefault("headers", {}).update(_LINK_HEADER)
                _refuses_cursor(operation)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
