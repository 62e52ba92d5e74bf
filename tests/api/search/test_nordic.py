"""Nordic and French names (issue 15 point 7): digraphs fold like their letters, and a page
of hits sorts in the tenant's alphabet."""

from typing import Any

import pytest

from shared.customers.collation import sort_key
from shared.customers.search import fold
from shared.models import Permission
from tests.api.world import World
from tests.factories import create_user


async def _names(world: World, q: str) -> list[str]:
    r = await world.client.get(
        "/v1/customers/search", params={"q": q}, headers=world.auth(world.agents[0][1])
    )
    assert r.status_code == 200, r.text
    return [h["last_name"] for h in r.json()["items"]]


class TestFolding:
    @pytest.mark.parametrize(
        ("query", "name"),
        [
            ("nygaard", "Nygård"),
            ("Nygård", "Nygaard"),
            ("bjoerg", "Bjørg"),
            ("aerlig", "Ærlig"),
            ("ode", "Ødegård"),
            ("helene", "Hélène"),
            ("coeur", "Cœur"),
        ],
    )
    def test_spellings_of_one_name_fold_alike(self, query: str, name: str) -> None:
        assert fold(name).startswith(fold(query))

    async def test_search_finds_the_other_spelling(self, world: World) -> None:
        await world.customers(
            [
                {"first_name": "Bjørg", "last_name": "Nygård"},
                {"first_name": "Bjoerg", "last_name": "Nygaard"},
                {"first_name": "Kari", "last_name": "Nordmann"},
            ]
        )
        assert sorted(await _names(world, "nygaard")) == ["Nygaard", "Nygård"]
        assert sorted(await _names(world, "bjørg")) == ["Nygaard", "Nygård"]


class TestSorting:
    NAMES = ("Åsen", "Zahl", "Ødegård", "Berg", "Ærø", "Élise")

    def test_norwegian_puts_ae_oe_aa_after_z(self) -> None:
        ordered = sorted(self.NAMES, key=lambda n: sort_key(n, "nb"))
        assert ordered == ["Berg", "Élise", "Zahl", "Ærø", "Ødegård", "Åsen"]

    def test_french_ignores_accents_first(self) -> None:
        ordered = sorted(self.NAMES, key=lambda n: sort_key(n, "fr"))
        assert ordered == ["Ærø", "Åsen", "Berg", "Élise", "Ødegård", "Zahl"]

    async def test_hits_come_in_the_tenants_alphabet(self, world: World) -> None:
        rows: list[dict[str, Any]] = [{"first_name": "Ola", "last_name": n} for n in self.NAMES]
        await world.customers(rows)
        assert await _names(world, "ola") == ["Berg", "Élise", "Zahl", "Ærø", "Ødegård", "Åsen"]
        r = await world.client.put(
            "/v1/tenant/regional",
            json={"region": "FR", "locale": "fr", "closed_days": []},
            headers=world.auth(await admin_token(world)),
        )
        assert r.status_code == 200, r.text
        assert await _names(world, "ola") == ["Ærø", "Åsen", "Berg", "Élise", "Ødegård", "Zahl"]


async def admin_token(world: World) -> str:
    _, token = await create_user(
        world.session, world.tenant, name="Admin", permissions=[Permission.administrator.value]
    )
    return token
