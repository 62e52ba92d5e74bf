"""`Allow` on a 405: every method the schema gives the path.

Starlette answers 405 from the first route whose path matched and names only that route's
methods, while most paths have one route per method (GET and POST of /v1/assignments): `Allow`
left out the others (RFC 9110 15.5.6 asks for all). The methods are read from the OpenAPI
schema, the one list of every operation, so `Allow` and the schema cannot disagree. A path
parameter the schema types as an integer matches digits only, as the routes do: "search" in
/v1/customers/search is no customer id.
"""

import re
from collections.abc import Callable
from functools import cache
from typing import Any

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _pattern(path: str, item: dict[str, Any]) -> re.Pattern[str]:
    integers = {
        p["name"]
        for operation in item.values()
        if isinstance(operation, dict)
        for p in operation.get("parameters", [])
        if p.get("in") == "path" and p.get("schema", {}).get("type") == "integer"
    }
    parts = re.split(r"\{(\w+)\}", path)
    regex = "".join(
        re.escape(part) if i % 2 == 0 else ("[0-9]+" if part in integers else "[^/]+")
        for i, part in enumerate(parts)
    )
    return re.compile(regex)


def method_table(schema: dict[str, Any]) -> list[tuple[re.Pattern[str], list[str]]]:
    """Each path of the schema as a pattern, with its methods."""
    return [
        (_pattern(path, item), sorted(m.upper() for m in item if m in _METHODS))
        for path, item in schema.get("paths", {}).items()
    ]


def allowed_methods(openapi: Callable[[], dict[str, Any]]) -> Callable[[str], list[str]]:
    """The methods of a request path, from the schema `openapi` returns (read once)."""

    @cache
    def table() -> list[tuple[re.Pattern[str], list[str]]]:
        return method_table(openapi())

    def of(path: str) -> list[str]:
        methods: set[str] = set()
        for pattern, listed in table():
            if pattern.fullmatch(path):
                methods.update(listed)
        return sorted(methods)

    return of
