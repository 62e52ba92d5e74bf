"""Relationship managers (issue 17 point 3): finding one by service and region, delegating
for an absence that starts and ends by itself, the new request in the manager's My Work."""

from datetime import timedelta

import httpx
import pytest

from services.api.pipeline import my_work
from tests.api.pipeline.conftest import Care

HOUR = timedelta(hours=1)


class TestColleagues:
    async def test_service_and_region_find_the_colleague_of_that_region_only(
        self, care: Care
    ) -> None:
        r = await care.get("/colleagues", who="intake", q="home nursing Antwerp")

        assert r.status_code == 200, r.text
        assert [c["user"]["id"] for c in r.json()["items"]] == [care.id("ann")]
        assert r.json()["items"][0]["matched_by"] == "service"
        assert r.json()["items"][0]["services"][0]["region"] == "Antwerp"
        both = await care.get("/colleagues", who="intake", q="nursing")
        assert {c["user"]["id"] for c in both.json()["items"]} == {care.id("ann"), care.id("bob")}

    async def test_a_name_finds_a_colleague_and_people_outside_the_pipeline_are_not_offered(
        self, care: Care
    ) -> None:
        bob = await care.get("/colleagues", who="intake", q="BOB")
        agent = await care.get("/colleagues", who="intake", q="agent")

        assert [c["user"]["id"] for c in bob.json()["items"]] == [care.id("bob")]
        assert bob.json()["items"][0]["matched_by"] == "name"
        assert agent.json()["items"] == []

    async def test_the_catalogue_is_kept_by_a_team_lead(self, care: Care) -> None:
        body = {
            "kind": "stay",
            "name": "Short stay",
            "region": "Antwerp",
            "member_ids": [care.id("cat")],
        }

        refused = await care.post("/services", body, who="ann")
        added = await care.post("/services", body, who="lead")
        again = await care.post("/services", body, who="lead")

        assert refused.status_code == 403
        assert added.status_code == 201, added.text
        assert [m["id"] for m in added.json()["members"]] == [care.id("cat")]
        assert again.status_code == 409 and again.json()["code"] == "service_exists"
        found = await care.get("/colleagues", who="intake", q="short stay antw")
        assert [c["user"]["id"] for c in found.json()["items"]] == [care.id("cat")]
        retired = await care.patch(f"/services/{added.json()['id']}", {"active": False}, who="lead")
        assert retired.json()["active"] is False
        assert (await care.get("/colleagues", who="intake", q="short stay")).json()["items"] == []


class TestDelegation:
    async def test_a_delegation_starts_and_ends_by_itself_with_requests_created_meanwhile(
        self, care: Care, client: httpx.AsyncClient
    ) -> None:
        ends = care.clock.now + 3 * HOUR
        delegated = await care.post(
            "/delegations",
            {
                "to_user_id": care.id("bob"),
                "starts_at": (care.clock.now + HOUR).isoformat(),
                "ends_at": ends.isoformat(),
            },
        )
        assert delegated.status_code == 201, delegated.text
        assert delegated.json()["active"] is False
        before = await care.register(who="intake", manager_id=care.id("ann"))
        assert before["acting_manager"]["id"] == care.id("ann")

        care.clock.advance(2 * HOUR)  # Ann is away
        during = await care.register(who="intake", manager_id=care.id("ann"))

        assert during["manager"]["id"] == care.id("ann")
        assert during["acting_manager"]["id"] == care.id("bob")
        bobs = await care.get("/requests", who="bob", mine="true")
        assert {r["id"] for r in bobs.json()["items"]} == {before["id"], during["id"]}
        assert (await care.get("/requests", who="ann", mine="true")).json()["items"] == []
        assert [e["request_id"] for e in await care.told("ann")] == [before["id"]]
        assert [e["request_id"] for e in await care.told("bob")] == [during["id"]]
        work = await client.get("/v1/my-work/requests", headers=care.auth("bob"))
        assert work.json()["new_requests_total"] == 2
        taken = await care.patch(f"/requests/{before['id']}", {"status": "in_progress"}, who="bob")
        assert taken.status_code == 200, taken.text

        care.clock.now = ends  # Ann is back: nothing had to be undone
        after = await care.get(f"/requests/{during['id']}", who="bob")
        assert after.json()["acting_manager"]["id"] == care.id("ann")
        assert (await care.get("/requests", who="bob", mine="true")).json()["items"] == []
        anns = await care.get("/requests", who="ann", mine="true")
        assert {r["id"] for r in anns.json()["items"]} == {before["id"], during["id"]}
        refused = await care.patch(f"/requests/{during['id']}", {"status": "lost"}, who="bob")
        assert refused.status_code == 403

    async def test_overlapping_absences_are_refused_and_one_ends_early(self, care: Care) -> None:
        window = {"to_user_id": care.id("bob"), "ends_at": (care.clock.now + HOUR).isoformat()}
        first = await care.post("/delegations", window)
        overlapping = await care.post("/delegations", {**window, "to_user_id": care.id("cat")})
        assert first.status_code == 201 and first.json()["active"] is True
        assert overlapping.status_code == 409
        assert overlapping.json()["code"] == "delegation_overlaps"

        ended = await care.delete(f"/delegations/{first.json()['id']}")

        assert ended.status_code == 200 and ended.json()["active"] is False
        assert (await care.get("/delegations")).json()["items"] == []

    async def test_a_team_lead_transfers_an_absent_colleagues_requests(self, care: Care) -> None:
        request = await care.register(who="intake", manager_id=care.id("cat"))
        body = {
            "from_user_id": care.id("cat"),
            "to_user_id": care.id("bob"),
            "ends_at": (care.clock.now + 8 * HOUR).isoformat(),
        }

        refused = await care.post("/delegations", body, who="ann")
        transferred = await care.post("/delegations", body, who="lead")

        assert refused.status_code == 403
        assert transferred.status_code == 201, transferred.text
        shown = await care.get(f"/requests/{request['id']}", who="bob")
        assert shown.json()["acting_manager"]["id"] == care.id("bob")


class TestMyWork:
    async def test_a_new_request_is_an_item_in_the_managers_my_work_until_taken_up(
        self, care: Care, client: httpx.AsyncClient
    ) -> None:
        request = await care.register(who="intake", manager_id=care.id("ann"))

        home = await client.get("/v1/my-work", headers=care.auth("ann"))
        items = await client.get("/v1/my-work/requests", headers=care.auth("ann"))

        assert home.status_code == 200 and home.json()["new_requests"] == 1
        assert [r["id"] for r in items.json()["new_requests"]["items"]] == [request["id"]]
        await care.patch(f"/requests/{request['id']}", {"status": "in_progress"})
        assert (await client.get("/v1/my-work", headers=care.auth("ann"))).json()[
            "new_requests"
        ] == 0

    async def test_the_my_work_preview_continues_in_the_list_of_new_requests(
        self, care: Care, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(my_work, "PREVIEW_ROWS", 1)
        first = await care.register(who="intake", manager_id=care.id("ann"))
        second = await care.register(who="intake", manager_id=care.id("ann"))

        preview = (await client.get("/v1/my-work/requests", headers=care.auth("ann"))).json()
        cursor = preview["new_requests"]["next"]
        rest = await care.get("/requests", mine="true", status="new", cursor=cursor)

        assert [r["id"] for r in preview["new_requests"]["items"]] == [second["id"]]
        assert rest.status_code == 200, rest.text
        assert [r["id"] for r in rest.json()["items"]] == [first["id"]]
        assert rest.json()["next"] is None
