"""The answers agree with the schema and the docs (issue 14, point 7): `Allow` lists every
method of a path, a literal path is never read as an id, a body that is not UTF-8 and text
with NUL answer 422 naming the field, and what the schema allows in a PATCH is handled."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from shared.models import Permission
from tests.api.world import World
from tests.factories import create_user

ADMIN = [p.value for p in Permission]


def _concrete(path: str) -> str:
    """The path with every parameter given a value that exists nowhere (1)."""
    parts = [("1" if part.startswith("{") else part) for part in path.split("/")]
    return "/".join(parts)


async def _admin(world: World) -> dict[str, str]:
    _, token = await create_user(world.session, world.tenant, name="Admin", permissions=ADMIN)
    return world.auth(token)


def _invalid_field(response: httpx.Response) -> list[Any]:
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid"
    errors: list[dict[str, Any]] = response.json()["errors"]
    return [e["loc"] for e in errors]


class TestAllow:
    async def test_a_405_lists_every_method_of_its_path(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        paths = app.openapi()["paths"]
        wrong: dict[str, tuple[str, str]] = {}
        for path, item in paths.items():
            methods = ", ".join(sorted(m.upper() for m in item))
            r = await client.options(_concrete(path))
            assert r.status_code == 405, (path, r.status_code)
            if r.headers["allow"] != methods:
                wrong[path] = (r.headers["allow"], methods)

        assert len(paths) > 50
        assert wrong == {}

    async def test_a_literal_path_is_no_id(self, world: World) -> None:
        auth = await _admin(world)

        r = await world.client.patch("/v1/customers/search", json={}, headers=auth)

        assert r.status_code == 405
        assert r.headers["allow"] == "GET"
        assert r.json()["code"] == "method_not_allowed"


class TestText:
    @pytest.mark.parametrize("path", ["/v1/customers/{id}/outcomes", "/v1/flows"])
    async def test_a_body_that_is_not_utf8_is_invalid(self, world: World, path: str) -> None:
        auth = await _admin(world)
        customer = (await world.customers([{}]))[0]

        r = await world.client.post(
            path.format(id=customer.id),
            content=b'{"lease_id": "\xff\xfe", "version": 1, "code": "sale"}',
            headers={**auth, "Content-Type": "application/json"},
        )

        assert _invalid_field(r) == [["body"]]

    @pytest.mark.parametrize("kind", ["outcomes", "attempts"])
    async def test_nul_in_a_comment_names_the_field(self, world: World, kind: str) -> None:
        customer = (await world.customers([{}]))[0]
        body: dict[str, Any] = {"lease_id": "l", "version": 1, "code": "sale", "kind": "no_answer"}

        r = await world.post(f"/v1/customers/{customer.id}/{kind}", **body, comment="a\x00b")

        assert _invalid_field(r) == [["body", "comment"]]


class TestPatchBodies:
    """A field that cannot be cleared is not nullable in the schema, and a null for it
    answers 422 naming it; a field that may be cleared is nullable."""

    def _properties(self, app: FastAPI, model: str) -> dict[str, Any]:
        properties: dict[str, Any] = app.openapi()["components"]["schemas"][model]["properties"]
        return properties

    def _nullable(self, prop: dict[str, Any]) -> bool:
        return {"type": "null"} in prop.get("anyOf", [])

    async def test_an_assignment_is_active_or_not(self, world: World, app: FastAPI) -> None:
        properties = self._properties(app, "AssignmentUpdate")
        auth = await _admin(world)

        r = await world.client.patch(
            f"/v1/assignments/{world.assignment.id}", json={"active": None}, headers=auth
        )

        assert not self._nullable(properties["active"])
        assert self._nullable(properties["attempt_limit"])
        assert _invalid_field(r) == [["body", "active"]]

    async def test_a_follow_up_change_names_a_time_or_an_owner(
        self, world: World, app: FastAPI
    ) -> None:
        schema = app.openapi()["components"]["schemas"]["FollowUpChange"]
        auth = await _admin(world)
        customer = (await world.customers([{}]))[0]

        r = await world.client.patch(
            f"/v1/customers/{customer.id}/follow-up",
            json={"at": None, "owner_id": None},
            headers=auth,
        )

        assert not any(self._nullable(p) for p in schema["properties"].values())
        assert schema["anyOf"] == [{"required": ["at"]}, {"required": ["owner_id"]}]
        assert sorted(_invalid_field(r)) == [["body", "at"], ["body", "owner_id"]]

    async def test_required_is_true_or_false(self, world: World) -> None:
        auth = await _admin(world)

        r = await world.client.post(
            "/v1/custom-fields", json={"key": "score", "required": 0.0}, headers=auth
        )

        assert _invalid_field(r) == [["body", "required"]]
