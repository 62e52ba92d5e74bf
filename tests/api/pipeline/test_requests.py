"""Contacts, prospects and requests (issue 17 points 1-2): the search that starts a
registration, new profiles, duplicates, the two-profile request, status and history."""

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import Customer
from tests.api.pipeline.conftest import Care, profile


class TestContacts:
    async def test_the_search_folds_accents_and_says_how_many_more(self, care: Care) -> None:
        for first in ("Hélène", "Henri", "Hector"):
            r = await care.post(
                "/contacts", profile(first, email=f"{first[:3]}@x.org"), who="intake"
            )
            assert r.status_code == 201, r.text

        r = await care.get("/contacts/search", who="intake", q="DUBO", limit=2)

        assert r.status_code == 200, r.text
        found = r.json()
        assert (found["total"], len(found["items"])) == (3, 2)
        rest = await care.get("/contacts/search", who="intake", q="DUBO", cursor=found["next"])
        assert [h["id"] for h in rest.json()["items"]] != [h["id"] for h in found["items"]]
        assert (len(rest.json()["items"]), rest.json()["next"]) == (1, None)
        hit = found["items"][0]
        assert {hit["email"], hit["city"], hit["role"]["code"]} >= {"Antwerpen", "private_person"}
        helene = (await care.get("/contacts/search", who="intake", q="hel")).json()
        assert [h["first_name"] for h in helene["items"]] == ["Hélène"]

    async def test_a_duplicate_is_refused_with_a_pointer_and_nothing_is_created(
        self, care: Care, session: AsyncSession
    ) -> None:
        first = await care.post(
            "/contacts", profile("Marie", phone="+32 470 12 34 56"), who="intake"
        )
        assert first.status_code == 201, first.text
        before = await session.scalar(select(func.count()).select_from(Customer))

        again = await care.post(
            "/contacts", profile("Maria", last_name="Dubbois", phone="+32470123456"), who="intake"
        )

        assert again.status_code == 409, again.text
        problem = again.json()
        assert problem["code"] == "duplicate_profile"
        assert problem["duplicate_of"] == {
            "id": first.json()["id"],
            "name": "Marie Dubois",
            "matched_by": "phone",
        }
        assert await session.scalar(select(func.count()).select_from(Customer)) == before

    async def test_a_profile_needs_an_e_mail_or_a_phone_a_language_and_a_role(
        self, care: Care
    ) -> None:
        unreachable = profile("Paul")
        no_role = profile("Paul", email="paul@x.org")
        del no_role["role"]
        for body in (unreachable, no_role):
            r = await care.post("/contacts", body, who="intake")
            assert r.status_code == 422, r.text
            assert r.json()["code"] == "invalid"


class TestRegistering:
    async def test_a_contact_person_calls_for_a_prospect_two_profiles_and_their_relation(
        self, care: Care
    ) -> None:
        r = await care.post(
            "/requests",
            {
                "kind": "service",
                "service_id": care.services["antwerp"],
                "description": "Home nursing after a hip operation",
                "caller": "contact",
                "contact": {"new": profile("Sophie", role="family", email="sophie@x.org")},
                "prospect": {"new": profile("Jeanne", phone="+32470999999")},
                "relation": "child_of",
            },
            who="ann",
        )

        assert r.status_code == 201, r.text
        request = r.json()
        assert request["contact"]["first_name"] == "Sophie"
        assert request["contact"]["role"] == {"code": "family", "label": "Family"}
        assert request["prospect"]["first_name"] == "Jeanne"
        assert request["relation"]["code"] == "child_of"
        assert request["decision_maker"]["code"] == "contact"
        assert request["status"]["code"] == "new"
        assert request["manager"]["id"] == request["registered_by"]["id"] == care.id("ann")
        assert request["service"]["region"] == "Antwerp"
        [registered] = request["history"]
        assert registered["kind"] == "registered" and registered["user"]["id"] == care.id("ann")
        assert registered["changes"]["caller"] == "contact"

    async def test_the_prospect_as_decision_maker_and_an_existing_contact_later(
        self, care: Care
    ) -> None:
        gp = await care.post(
            "/contacts",
            profile("Luc", last_name="Janssens", role="health_care_provider", email="gp@x.org"),
        )
        request = await care.register(decision_maker="prospect")
        assert request["contact"] is None and request["decision_maker"]["code"] == "prospect"

        r = await care.post(
            f"/requests/{request['id']}/contact",
            {"contact": {"id": gp.json()["id"]}, "relation": "general_practitioner_of"},
        )

        assert r.status_code == 200, r.text
        assert r.json()["contact"]["id"] == gp.json()["id"]
        assert r.json()["relation"]["label"] == "General practitioner of"
        assert r.json()["history"][0]["kind"] == "contact_set"

    async def test_the_same_person_as_contact_and_prospect_is_refused(self, care: Care) -> None:
        same = profile("Eva", email="eva@x.org")
        r = await care.post(
            "/requests",
            {
                "kind": "stay",
                "caller": "contact",
                "contact": {"new": same},
                "prospect": {"new": {**same, "first_name": "Eve"}},
                "relation": "other",
            },
        )
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "same_profile"

    async def test_an_intake_employee_who_cannot_manage_names_a_manager(self, care: Care) -> None:
        refused = await care.post(
            "/requests",
            {
                "kind": "product",
                "caller": "prospect",
                "prospect": {"new": profile("Ida", email="i@x.org")},
            },
            who="intake",
        )
        assert refused.status_code == 422 and refused.json()["code"] == "not_a_pipeline_colleague"

        request = await care.register(who="intake", manager_id=care.id("bob"))

        assert request["manager"]["id"] == care.id("bob")
        assert [e["type"] for e in await care.told("bob")] == ["request_assigned"]


class TestStatusAndHandOver:
    async def test_a_status_the_rules_do_not_allow_is_refused_and_history_records_the_rest(
        self, care: Care
    ) -> None:
        request = await care.register()
        path = f"/requests/{request['id']}"

        refused = await care.patch(path, {"status": "won"})
        moved = await care.patch(path, {"status": "in_progress"})

        assert refused.status_code == 409 and refused.json()["code"] == "status_not_allowed"
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == {"code": "in_progress", "label": "In progress"}
        assert moved.json()["history"][0]["changes"] == {
            "status": {"old": "new", "new": "in_progress"}
        }

    async def test_a_manager_hands_a_request_to_a_colleague_who_is_told(self, care: Care) -> None:
        request = await care.register()

        r = await care.patch(f"/requests/{request['id']}", {"manager_id": care.id("cat")})

        assert r.status_code == 200, r.text
        assert r.json()["manager"]["id"] == r.json()["acting_manager"]["id"] == care.id("cat")
        assert [e["request_id"] for e in await care.told("cat")] == [request["id"]]
        # Ann handed it away: now only Cat, or a team lead, changes it.
        again = await care.patch(f"/requests/{request['id']}", {"status": "lost"})
        assert again.status_code == 403 and again.json()["code"] == "not_your_request"
        lead = await care.patch(f"/requests/{request['id']}", {"status": "lost"}, who="lead")
        assert lead.status_code == 200, lead.text

    async def test_the_list_filters_mine_and_statuses(self, care: Care) -> None:
        mine = await care.register()
        await care.register(who="bob")
        await care.patch(f"/requests/{mine['id']}", {"status": "in_progress"})

        own = await care.get("/requests", mine="true")
        new = await care.get("/requests", status="new")
        page = await care.get("/requests", limit=1)
        rest = await care.get("/requests", limit=1, cursor=page.json()["next"])

        assert [r["id"] for r in own.json()["items"]] == [mine["id"]]
        assert [r["manager"]["id"] for r in new.json()["items"]] == [care.id("bob")]
        assert rest.json()["items"][0]["id"] == mine["id"]
        assert rest.json()["next"] is None


class TestLabels:
    async def test_labels_follow_the_profile_language_then_accept_language(
        self, care: Care, client: httpx.AsyncClient
    ) -> None:
        headers = care.auth("ann", **{"Accept-Language": "de, fr-BE;q=0.9, en;q=0.5"})
        french = await client.get("/v1/pipeline/labels", headers=headers)
        assert french.json()["language"] == "fr"
        statuses = {c["code"]: c["label"] for c in french.json()["groups"]["request_status"]}
        assert statuses["offer_made"] == "Offre faite"

        changed = await client.patch(
            f"/v1/users/{care.id('ann')}", json={"language": "nb-NO"}, headers=care.auth("admin")
        )
        assert changed.status_code == 200 and changed.json()["language"] == "nb-NO"

        norwegian = await client.get("/v1/pipeline/labels", headers=headers)
        assert norwegian.json()["language"] == "nb"
        kinds = {c["code"]: c["label"] for c in norwegian.json()["groups"]["request_kind"]}
        assert kinds["stay"] == "Opphold"
        cleared = await client.patch(
            f"/v1/users/{care.id('ann')}", json={"language": None}, headers=care.auth("admin")
        )
        assert cleared.json()["language"] is None
        again = await client.get("/v1/pipeline/labels", headers=headers)
        assert again.json()["language"] == "fr"
