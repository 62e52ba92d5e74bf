"""The Idempotency-Key header in the OpenAPI schema, on every operation that takes it.

The middleware (middleware.py) serves every POST under /v1 and no route declares the header,
so the generated schema would not show it: it is added here, once, with the rules the
middleware applies (1 to 255 printable ASCII characters; anything else answers 400).
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from services.api.idempotency.middleware import MAX_KEY_LENGTH

KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes a retry safe: a request repeated with the same key and body answers "
    "what the first one answered, without running again (kept 24 hours per user). A UUID is "
    "the usual choice.",
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": "^[!-~]+$",
        "examples": ["5f0c6a1e-2b7d-4e52-9a43-0c6f1d2e8b11"],
    },
}


def document_idempotency(app: FastAPI) -> None:
    """Declare the header on every POST under /v1 (call after the routes' other rewrites)."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        for path, item in schema.get("paths", {}).items():
            post = item.get("post")
            if post is None or not path.startswith("/v1/"):
                continue
            parameters = post.setdefault("parameters", [])
            if all(p.get("name") != KEY_PARAMETER["name"] for p in parameters):
                parameters.append(dict(KEY_PARAMETER))
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
