"""/v1/webhooks over HTTP: administrators manage endpoints (secret shown once), read the
delivery log, replay; bad input is refused; another tenant's endpoints are invisible."""

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from shared.webhooks import outbox
from shared.webhooks.types import Message, WebhookType, customer_key
from tests.api.orgs import Org
from tests.api.webhooks.conftest import RECEIVER, new_endpoint

BAD_BODIES: list[dict[str, Any]] = [
    {"url": RECEIVER, "event_types": []},
    {"url": RECEIVER, "event_types": ["outcome.unknown"]},
    {"url": RECEIVER},
    {"event_types": ["outcome.registered"]},
    {"url": "ftp://127.0.0.1/x", "event_types": ["outcome.registered"]},
    {"url": "not a url", "event_types": ["outcome.registered"]},
    {"url": RECEIVER + "\x00", "event_types": ["outcome.registered"]},
    {"url": RECEIVER, "event_types": ["outcome.registered"], "secret": "mine"},
    {"url": RECEIVER, "event_types": ["outcome.registered"], "enabled": "yes"},
]


async def _deliveries(session: AsyncSession, org: Org, count: int) -> None:
    """`count` outcome messages for the org's endpoints, as a producer writes them."""
    at = datetime.now(UTC)
    messages = [
        Message(WebhookType.outcome_registered, {"n": i}, customer_key(i), at) for i in range(count)
    ]
    await outbox.enqueue(session, org.tenant.id, *messages)
    await session.commit()


class TestEndpoints:
    async def test_create_shows_the_secret_once(self, acme: Org) -> None:
        created = await new_endpoint(acme, description="CRM", event_types=["customer.moved"])
        assert created["secret"].startswith("whsec_")
        assert (created["url"], created["event_types"], created["enabled"]) == (
            RECEIVER,
            ["customer.moved"],
            True,
        )
        got = (await acme.get(f"/v1/webhooks/endpoints/{created['id']}")).json()
        listed = (await acme.get("/v1/webhooks/endpoints")).json()
        assert "secret" not in got
        assert [e["id"] for e in listed["items"]] == [created["id"]]
        assert "secret" not in listed["items"][0]

    async def test_change_disable_and_delete(self, acme: Org, session: AsyncSession) -> None:
        created = await new_endpoint(acme)
        path = f"/v1/webhooks/endpoints/{created['id']}"
        r = await acme.patch(path, {"enabled": False, "event_types": ["attempt.registered"]})
        assert r.status_code == 200, r.text
        assert (r.json()["enabled"], r.json()["event_types"]) == (False, ["attempt.registered"])
        assert r.json()["url"] == RECEIVER
        await _deliveries(session, acme, 1)  # disabled: nothing written
        assert await session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
        assert (await acme.delete(path)).json()["id"] == created["id"]
        assert (await acme.get(path)).status_code == 404
        assert await session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0

    async def test_only_administrators(self, acme: Org) -> None:
        for role in ("setup", "agent", "reporter"):
            r = await acme.get("/v1/webhooks/endpoints", role=role)
            assert r.status_code == 403, role
            r = await acme.post(
                "/v1/webhooks/endpoints",
                {"url": RECEIVER, "event_types": ["outcome.registered"]},
                role=role,
            )
            assert r.status_code == 403, role

    async def test_bad_input_answers_422_and_creates_nothing(
        self, acme: Org, session: AsyncSession
    ) -> None:
        for body in BAD_BODIES:
            r = await acme.post("/v1/webhooks/endpoints", body)
            assert r.status_code == 422, (body, r.text)
        assert await session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0

    async def test_null_in_a_change_answers_422(self, acme: Org) -> None:
        created = await new_endpoint(acme)
        r = await acme.patch(f"/v1/webhooks/endpoints/{created['id']}", {"url": None})
        assert r.status_code == 422

    async def test_private_targets_refused_when_not_allowed(self, acme: Org, app: FastAPI) -> None:
        resources = app.state.resources
        resources.settings = resources.settings.model_copy(
            update={"webhook_allow_private_targets": False}
        )
        for url in (RECEIVER, "https://169.254.169.254/latest", "https://10.0.0.1/x"):
            r = await acme.post(
                "/v1/webhooks/endpoints", {"url": url, "event_types": ["outcome.registered"]}
            )
            assert r.status_code == 422, url
            assert r.json()["code"] == "webhook_url_refused"
        r = await acme.post(
            "/v1/webhooks/endpoints",
            {"url": "https://crm.example.com/hooks", "event_types": ["outcome.registered"]},
        )
        assert r.status_code == 201


class TestTenants:
    async def test_another_tenants_endpoints_and_deliveries_are_invisible(
        self, acme: Org, globex: Org, session: AsyncSession
    ) -> None:
        theirs = await new_endpoint(globex)
        await _deliveries(session, globex, 1)
        delivery = await session.scalar(select(WebhookDelivery.id))
        path = f"/v1/webhooks/endpoints/{theirs['id']}"
        assert (await acme.get("/v1/webhooks/endpoints")).json()["items"] == []
        assert (await acme.get(path)).status_code == 404
        assert (await acme.get(f"{path}/deliveries")).status_code == 404
        assert (await acme.patch(path, {"enabled": False})).status_code == 404
        assert (await acme.post(f"{path}/replay-dead", {})).status_code == 404
        assert (
            await acme.post(f"/v1/webhooks/deliveries/{delivery}/replay", {})
        ).status_code == 404
        assert (await acme.delete(path)).status_code == 404
        # Nothing of theirs changed.
        assert (await globex.get(path)).json()["enabled"] is True

    async def test_a_tenants_message_reaches_only_its_own_endpoints(
        self, acme: Org, globex: Org, session: AsyncSession
    ) -> None:
        ours = await new_endpoint(acme)
        await new_endpoint(globex)
        await _deliveries(session, acme, 1)
        rows = (await session.scalars(select(WebhookDelivery))).all()
        assert [(d.endpoint_id, d.tenant_id) for d in rows] == [(ours["id"], acme.tenant.id)]


class TestDeliveryLog:
    async def test_pages_newest_first_and_filters_by_status(
        self, acme: Org, session: AsyncSession
    ) -> None:
        created = await new_endpoint(acme)
        await _deliveries(session, acme, 5)
        path = f"/v1/webhooks/endpoints/{created['id']}/deliveries"
        first = await acme.get(path, limit=3)
        assert first.status_code == 200
        page = first.json()
        assert 'rel="next"' in first.headers["link"]
        rest = (await acme.get(path, limit=3, cursor=page["next"])).json()
        ids = [d["id"] for d in page["items"] + rest["items"]]
        assert ids == sorted(ids, reverse=True) and len(ids) == 5
        assert rest["next"] is None
        item = page["items"][0]
        assert (item["status"], item["attempts"], item["event_type"]) == (
            "pending",
            0,
            "outcome.registered",
        )
        assert item["payload"]["data"] == {"n": 4}
        assert (await acme.get(path, status="dead")).json()["items"] == []
        assert (await acme.get(path, status="lost")).status_code == 422
        assert (await acme.get(path, cursor="bm90IGEgY3Vyc29y")).status_code == 422

    async def test_replay_of_one_and_of_the_dead_letters(
        self, acme: Org, session: AsyncSession
    ) -> None:
        created = await new_endpoint(acme)
        await _deliveries(session, acme, 3)
        rows = (await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))).all()
        for row, status in zip(rows, ("dead", "dead", "delivered"), strict=True):
            row.status, row.attempts = status, 11
        await session.commit()
        r = await acme.post(f"/v1/webhooks/deliveries/{rows[2].id}/replay", {})
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["attempts"], r.json()["replays"]) == ("pending", 0, 1)
        r = await acme.post(f"/v1/webhooks/endpoints/{created['id']}/replay-dead", {})
        assert r.json() == {"replayed": 2}
        session.expire_all()
        statuses = (await session.scalars(select(WebhookDelivery.status))).all()
        assert set(statuses) == {DeliveryStatus.pending.value}
        # Nothing dead is left to replay.
        r = await acme.post(f"/v1/webhooks/endpoints/{created['id']}/replay-dead", {})
        assert r.json() == {"replayed": 0}
