"""GET /v1/customers/search (rule 4): folded names, phones, e-mails, external ids, ranked."""

from typing import Any

import httpx

from shared.models import Customer
from tests.api.world import World
from tests.factories import add_customers, create_assignment, create_tenant, create_user


async def _search(world: World, token: str | None = None, **params: Any) -> httpx.Response:
    return await world.client.get(
        "/v1/customers/search",
        params=params,
        headers=world.auth(token or world.agents[0][1]),
    )


def _ids(r: httpx.Response) -> list[int]:
    assert r.status_code == 200, r.text
    return [h["id"] for h in r.json()["items"]]


async def _unassigned(world: World, **values: Any) -> Customer:
    customer = Customer(tenant_id=world.tenant.id, **values)
    world.session.add(customer)
    await world.session.commit()
    return customer


class TestSearch:
    async def test_route_is_not_taken_for_a_customer_id(self, world: World) -> None:
        r = await _search(world, q="nobody")
        assert r.status_code == 200 and r.json()["items"] == []

    async def test_names_fold_accents_and_case(self, world: World) -> None:
        odegard, oedegaard, helene, _ = await world.customers(
            [
                {"first_name": "Per", "last_name": "Odegard"},
                {"first_name": "Åse", "last_name": "Ødegård"},
                {"first_name": "Hélène", "last_name": "Dupont", "city": "Lyon"},
                {"first_name": "Kari", "last_name": "Nordmann"},
            ]
        )

        assert set(_ids(await _search(world, q="ode"))) == {odegard.id, oedegaard.id}
        assert set(_ids(await _search(world, q="ØDE"))) == {odegard.id, oedegaard.id}
        hit = (await _search(world, q="hel")).json()["items"]
        assert [h["id"] for h in hit] == [helene.id]
        assert (hit[0]["city"], hit[0]["state"], hit[0]["matched_by"]) == ("Lyon", "free", "name")
        assert hit[0]["assignment_name"] == "Autumn campaign"

    async def test_exact_identifiers_then_word_starts_then_substrings(self, world: World) -> None:
        inner, word, exact = await world.customers(
            [
                {"first_name": "Bernard", "external_id": "c-1"},  # "nard" inside a word
                {"first_name": "Nardo", "external_id": "c-2"},  # a word starts with it
                {"first_name": "Zed", "external_id": "nard"},  # the external id itself
            ]
        )

        r = await _search(world, q="nard")

        assert _ids(r) == [exact.id, word.id, inner.id]
        assert [h["matched_by"] for h in r.json()["items"]] == ["external_id", "name", "name"]
        assert _ids(await _search(world, q="nard", limit=1)) == [exact.id]

    async def test_phone_and_email(self, world: World) -> None:
        by_phone, by_mail = await world.customers(
            [{"phone_3": "+4722334455"}, {"email": "Kari@Example.no"}]
        )

        phone = await _search(world, q="22 33 44 55")
        mail = await _search(world, q="kari@EXAMPLE.NO")

        assert _ids(phone) == [by_phone.id] and phone.json()["items"][0]["matched_by"] == "phone"
        assert _ids(mail) == [by_mail.id] and mail.json()["items"][0]["matched_by"] == "email"

    async def test_scope_is_visible_assignments_and_no_assignment(self, world: World) -> None:
        secret = await create_assignment(
            world.session, world.tenant, world.flow, name="Secret", visible_to_all=False
        )
        (shown,) = await world.customers([{"first_name": "Berit", "external_id": "s1"}])
        (hidden,) = await add_customers(
            world.session, world.redis, secret, [{"first_name": "Berit", "external_id": "h1"}]
        )
        loose = await _unassigned(world, external_id="u1", first_name="Berit")

        agent = await _search(world, q="berit")
        full_denied = await _search(world, q="berit", full="true")
        full = await _search(world, world.supervisor[1], q="berit", full="true")

        assert set(_ids(agent)) == {shown.id, loose.id}
        assert full_denied.status_code == 403
        assert "extended_handling" in full_denied.json()["detail"]
        assert set(_ids(full)) == {shown.id, loose.id, hidden.id}
        assert full.json()["full"] is True

    async def test_never_another_tenant(self, world: World) -> None:
        other = await create_tenant(world.session, name="Other")
        _, stranger = await create_user(world.session, other)
        await world.customers([{"first_name": "Berit", "external_id": "b1"}])

        assert _ids(await _search(world, stranger, q="berit")) == []
        assert _ids(await _search(world, stranger, q="b1")) == []

    async def test_anonymised_customers_are_not_found_by_personal_data(self, world: World) -> None:
        gone = await _unassigned(
            world,
            external_id="anon-1",
            first_name="Berit",
            phone_1="+4722334455",
            email="berit@example.no",
        )
        gone.anonymised_at = gone.created_at
        await world.session.commit()

        for q in ("berit", "22334455", "berit@example.no"):
            assert _ids(await _search(world, q=q)) == [], q

    async def test_bad_queries_answer_422(self, world: World) -> None:
        for params in ({"q": ""}, {}, {"q": "x" * 201}, {"q": "a\x00b"}, {"q": "a", "limit": 0}):
            r = await _search(world, **params)
            assert r.status_code == 422, params

    async def test_wildcards_are_plain_letters(self, world: World) -> None:
        await world.customers([{"first_name": "Anna"}])
        assert _ids(await _search(world, q="%")) == []
        assert _ids(await _search(world, q="_")) == []
