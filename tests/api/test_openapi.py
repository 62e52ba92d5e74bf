"""The OpenAPI document builds and documents every operation: clients and request fuzzers are
generated from it, and people read it at /docs (issue 14, point 6)."""

from typing import Any

import httpx
import jsonschema_rs
import pytest
from fastapi import FastAPI


async def test_the_schema_documents_every_route(client: httpx.AsyncClient) -> None:
    r = await client.get("/openapi.json")
    assert r.status_code == 200, r.text
    paths = r.json()["paths"]
    for path in ("/v1/assignments/{assignment_id}/next", "/v1/me/events", "/v1/reports/activity"):
        assert path in paths
    stream = paths["/v1/me/events"]["get"]["responses"]["200"]["content"]
    assert "text/event-stream" in stream


class Examples:
    """The examples of a media type: its own, or its schema's (through references, list
    items and alternatives), each with the schema it must be valid against."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.components = schema["components"]

    def of(self, media: dict[str, Any]) -> list[tuple[Any, dict[str, Any]]]:
        schema = media.get("schema", {})
        own = [media["example"]] if "example" in media else []
        own += [e["value"] for e in media.get("examples", {}).values()]
        return [(e, schema) for e in own] + self._in(schema)

    def _in(self, schema: dict[str, Any]) -> list[tuple[Any, dict[str, Any]]]:
        if "$ref" in schema:
            return self._in(self.components["schemas"][schema["$ref"].rsplit("/", 1)[1]])
        found = [(e, schema) for e in schema.get("examples", [])]
        if not found and "items" in schema:
            found = [([e], schema) for e, _ in self._in(schema["items"])]
        for branch in schema.get("anyOf", []) + schema.get("oneOf", []):
            found += self._in(branch)
        return found

    def invalid(self, example: Any, schema: dict[str, Any]) -> str | None:
        """Why the example does not fit its schema, or None."""
        validator = jsonschema_rs.validator_for({**schema, "components": self.components})
        errors = [e.message for e in validator.iter_errors(example)]
        return "; ".join(errors) or None


def _operations(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]


def _success(operation: dict[str, Any]) -> dict[str, Any]:
    """The first 2xx answer's media types."""
    ok = min(s for s in operation["responses"] if s.startswith("2"))
    content: dict[str, Any] = operation["responses"][ok].get("content", {})
    return content


class TestDocumented:
    @pytest.fixture
    def schema(self, app: FastAPI) -> dict[str, Any]:
        return app.openapi()

    def test_every_operation_has_a_summary_and_a_description(self, schema: dict[str, Any]) -> None:
        operations = _operations(schema)
        missing = [
            name
            for name, op in operations
            if not op.get("summary", "").strip() or not op.get("description", "").strip()
        ]

        assert len(operations) > 60
        assert missing == []

    def test_every_request_body_and_success_answer_has_an_example(
        self, schema: dict[str, Any]
    ) -> None:
        examples = Examples(schema)
        missing: list[str] = []
        for name, op in _operations(schema):
            bodies = op.get("requestBody", {}).get("content", {})
            if bodies and not any(examples.of(media) for media in bodies.values()):
                missing.append(f"{name} request")
            answers = _success(op)
            if not answers or not any(examples.of(media) for media in answers.values()):
                missing.append(f"{name} answer")

        assert missing == []

    def test_every_example_is_valid(self, schema: dict[str, Any]) -> None:
        examples = Examples(schema)
        found: list[tuple[Any, dict[str, Any]]] = []
        for _, op in _operations(schema):
            for media in op.get("requestBody", {}).get("content", {}).values():
                found += examples.of(media)
            for media in _success(op).values():
                found += examples.of(media)
        invalid = {
            repr(example)[:80]: why
            for example, sub in found
            if sub and (why := examples.invalid(example, sub))
        }

        assert len(found) > 60
        assert invalid == {}
