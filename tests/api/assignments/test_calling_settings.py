"""Setting calling rules, the tenant's region and closed days, and a customer's country."""

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.api.orgs import Org
from tests.factories import create_assignment, create_flow


class TestAssignmentRules:
    async def test_a_preset_is_stored_in_full_with_its_source(
        self, acme: Org, session: AsyncSession
    ) -> None:
        assignment = await create_assignment(
            session, acme.tenant, await create_flow(session, acme.tenant)
        )
        r = await acme.patch(
            f"/v1/assignments/{assignment.id}",
            {"calling_rules": {"preset": "FR"}, "callbacks_break_rules": True},
            role="setup",
        )
        assert r.status_code == 200, r.text
        rules = r.json()["calling_rules"]
        assert rules["weekly"]["mon"] == [
            {"start": "10:00", "end": "13:00"},
            {"start": "14:00", "end": "20:00"},
        ]
        assert "sat" not in rules["weekly"] and "D. 223-9" in rules["source"]
        assert r.json()["callbacks_break_rules"] is True

    async def test_rules_and_contact_hours_are_exclusive(
        self, acme: Org, session: AsyncSession
    ) -> None:
        flow = await create_flow(session, acme.tenant)
        assignment = await create_assignment(
            session, acme.tenant, flow, contact_hours_start="09:00", contact_hours_end="17:00"
        )
        path = f"/v1/assignments/{assignment.id}"
        r = await acme.patch(path, {"calling_rules": {"preset": "NO"}}, role="setup")
        assert (r.status_code, r.json()["code"]) == (422, "calling_rules_with_contact_hours")
        both = {
            "calling_rules": {"preset": "NO"},
            "contact_hours_start": None,
            "contact_hours_end": None,
        }
        assert (await acme.patch(path, both, role="setup")).status_code == 200

    async def test_a_bad_schedule_answers_422(self, acme: Org, session: AsyncSession) -> None:
        assignment = await create_assignment(
            session, acme.tenant, await create_flow(session, acme.tenant)
        )
        bad = {"calling_rules": {"weekly": {"mon": [{"start": "21:00", "end": "09:00"}]}}}
        r = await acme.patch(f"/v1/assignments/{assignment.id}", bad, role="setup")
        assert r.status_code == 422


class TestTenantRegional:
    async def test_administrators_set_region_locale_and_closed_days(self, acme: Org) -> None:
        body = {"region": "FR", "locale": "fr", "closed_days": ["2027-12-24", "2027-12-24"]}
        r = await acme.client.put("/v1/tenant/regional", json=body, headers=acme.auth("admin"))
        assert r.status_code == 200, r.text
        seen = await acme.get("/v1/tenant/regional", role="agent")
        assert seen.json() == {"region": "FR", "locale": "fr", "closed_days": ["2027-12-24"]}

    async def test_others_may_not_and_bad_values_are_refused(self, acme: Org) -> None:
        put = acme.client.put
        body = {"region": "FR", "locale": "fr", "closed_days": []}
        denied = await put("/v1/tenant/regional", json=body, headers=acme.auth("setup"))
        assert denied.status_code == 403
        for bad in ({**body, "region": "XX"}, {**body, "locale": "klingon"}):
            r: httpx.Response = await put(
                "/v1/tenant/regional", json=bad, headers=acme.auth("admin")
            )
            assert r.status_code == 422, bad
        assert (await acme.get("/v1/tenant/regional")).json()["region"] == "NO"


class TestCustomerCountry:
    async def test_a_french_customer_keeps_a_french_national_number(self, acme: Org) -> None:
        body = {
            "external_id": "fr-1",
            "last_name": "Martin",
            "country": "FR",
            "phone_1": "06 12 34 56 78",
        }
        r = await acme.post("/v1/customers", body, role="agent")
        assert r.status_code in (200, 201), r.text
        customer = r.json()["customer"]
        assert (customer["country"], customer["phone_1"]) == ("FR", "+33612345678")
        no_country = {"external_id": "no-1", "last_name": "Hansen", "phone_1": "06 12 34 56 78"}
        refused = await acme.post("/v1/customers", no_country, role="agent")
        assert refused.status_code == 422
