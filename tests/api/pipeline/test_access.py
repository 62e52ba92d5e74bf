"""Permissions and tenants (issue 17 point 5): every pipeline endpoint checks the bundle, and
another tenant's ids answer 404 on every endpoint that takes one."""

from datetime import timedelta
from typing import Any

import httpx

from tests.api.pipeline.conftest import Care, profile

# Every pipeline operation, with a body that would be valid.
READS = [
    "/labels",
    "/contacts/search?q=a",
    "/services",
    "/colleagues?q=a",
    "/requests",
    "/tasks",
    "/delegations",
]


async def _ids(care: Care) -> dict[str, int]:
    request = await care.register()
    task = await care.post(f"/requests/{request['id']}/tasks", {"title": "Visit"})
    delegation = await care.post(
        "/delegations",
        {
            "to_user_id": care.id("bob"),
            "ends_at": (care.clock.now + timedelta(hours=1)).isoformat(),
        },
    )
    return {
        "request": request["id"],
        "prospect": request["prospect"]["id"],
        "task": task.json()["id"],
        "delegation": delegation.json()["id"],
        "service": care.services["antwerp"],
    }


def _calls(ids: dict[str, int], mine: Care) -> list[tuple[str, str, Any]]:
    """(method, path, body) of every operation that names an id of the pipeline."""
    contact = {"contact": {"new": profile("Zoe", email="zoe@x.org")}, "relation": "other"}
    return [
        ("GET", f"/requests/{ids['request']}", None),
        ("PATCH", f"/requests/{ids['request']}", {"status": "in_progress"}),
        ("POST", f"/requests/{ids['request']}/contact", contact),
        ("POST", f"/requests/{ids['request']}/tasks", {"title": "x"}),
        ("PATCH", f"/tasks/{ids['task']}", {"status": "done"}),
        ("PATCH", f"/services/{ids['service']}", {"active": False}),
        ("DELETE", f"/delegations/{ids['delegation']}", None),
        # Ids in bodies: a profile, a manager, a service, an executor of the other tenant.
        (
            "POST",
            "/requests",
            {"kind": "service", "caller": "prospect", "prospect": {"id": ids["prospect"]}},
        ),
        (
            "POST",
            "/requests",
            {
                "kind": "service",
                "caller": "prospect",
                "prospect": {"new": profile("Yann", email="yann@x.org")},
                "manager_id": ids["manager"],
            },
        ),
        (
            "POST",
            "/requests",
            {
                "kind": "service",
                "caller": "prospect",
                "service_id": ids["service"],
                "prospect": {"new": profile("Yves", email="yves@x.org")},
            },
        ),
        (
            "POST",
            "/delegations",
            {
                "to_user_id": ids["manager"],
                "ends_at": (mine.clock.now + timedelta(hours=1)).isoformat(),
            },
        ),
    ]


async def _send(care: Care, method: str, path: str, body: Any, who: str) -> httpx.Response:
    return await care.client.request(
        method, f"/v1/pipeline{path}", json=body, headers=care.auth(who)
    )


class TestTenants:
    async def test_another_tenants_ids_answer_404_on_every_endpoint(
        self, care: Care, other: Care
    ) -> None:
        theirs = await _ids(other) | {"manager": other.id("ann")}
        for method, path, body in _calls(theirs, care):
            r = await _send(care, method, path, body, who="lead")
            assert r.status_code == 404, (method, path, r.text)
            assert r.json()["code"] == "not_found"
        # Nothing of theirs is listed or found either.
        for path in ("/requests", "/tasks"):
            assert (await care.get(path, who="lead")).json()["items"] == []
        assert [s["id"] for s in (await care.get("/services")).json()["items"]] == [
            care.services["antwerp"],
            care.services["ghent"],
        ]
        hits = await care.get("/contacts/search", q="Prospect")
        assert hits.json()["total"] == 0
        unchanged = await other.get(f"/requests/{theirs['request']}")
        assert unchanged.json()["status"]["code"] == "new" and unchanged.json()["contact"] is None


class TestPermissions:
    async def test_someone_outside_the_pipeline_reads_nothing(self, care: Care) -> None:
        for path in READS:
            r = await care.client.get(f"/v1/pipeline{path}", headers=care.auth("agent"))
            assert r.status_code == 403 and r.json()["code"] == "forbidden", path

    async def test_every_write_checks_the_bundle(
        self, care: Care, client: httpx.AsyncClient
    ) -> None:
        ids = await _ids(care) | {"manager": care.id("bob")}
        for method, path, body in _calls(ids, care):
            r = await _send(care, method, path, body, who="agent")
            assert r.status_code == 403, (method, path, r.text)
        # An intake employee registers but does not manage; a manager administers nothing.
        assert (
            await care.patch(f"/requests/{ids['request']}", {"status": "lost"}, who="intake")
        ).status_code == 403
        assert (
            await care.patch(f"/services/{ids['service']}", {"active": False}, who="ann")
        ).status_code == 403
        assert (
            await care.post("/contacts", profile("Zed", email="z@x.org"), who="cat")
        ).status_code == 403
        assert (
            await client.get("/v1/my-work/requests", headers=care.auth("intake"))
        ).status_code == 403
