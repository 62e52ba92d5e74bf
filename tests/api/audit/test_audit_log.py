"""The audit log (issue 15 point 6, decision 034): reads of customer details, full searches
and changes are recorded without personal data, append-only, read and exported by
administrators only; /next and outcomes write none."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.audit import Actor, AuditAction, record
from shared.models import AuditEntry, Permission, User
from tests.api.world import World
from tests.factories import create_tenant, create_user

ADMIN = [Permission.administrator.value]
NAME, PHONE = "Ødegård", "+4791234567"


async def _admin(world: World) -> tuple[User, dict[str, str]]:
    admin, token = await create_user(world.session, world.tenant, name="Admin", permissions=ADMIN)
    return admin, world.auth(token)


async def _log(world: World, auth: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    r = await world.client.get("/v1/audit-log", params={"limit": 500, **params}, headers=auth)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


class TestRecorded:
    async def test_reads_and_full_searches_are_recorded_without_the_query(
        self, world: World
    ) -> None:
        (c,) = await world.customers([{"last_name": NAME, "phone_1": PHONE}])
        agent, agent_token = world.agents[0]
        supervisor, supervisor_token = world.supervisor
        _, admin = await _admin(world)
        as_agent, as_supervisor = world.auth(agent_token), world.auth(supervisor_token)

        read = await world.client.get(f"/v1/customers/{c.id}", headers=as_agent)
        history = await world.client.get(f"/v1/customers/{c.id}/events", headers=as_agent)
        mine = await world.client.get("/v1/customers/search", params={"q": NAME}, headers=as_agent)
        full = await world.client.get(
            "/v1/customers/search", params={"q": NAME, "full": "true"}, headers=as_supervisor
        )
        unseen = await world.client.get("/v1/customers/999999", headers=as_agent)

        assert [r.status_code for r in (read, history, mine, full, unseen)] == [
            200,
            200,
            200,
            200,
            404,
        ]
        entries = await _log(world, admin)
        assert [(e["action"], e["user_id"], e["target_id"]) for e in entries] == [
            ("customer.searched_full", supervisor.id, None),
            ("customer.history_read", agent.id, c.id),
            ("customer.read", agent.id, c.id),
        ]
        assert entries[0]["data"] == {"hits": 1} and entries[0]["category"] == "access"
        assert entries[2]["target_type"] == "customer"
        text_of_log = json.dumps(entries, ensure_ascii=False)
        assert (
            NAME not in text_of_log and "gard" not in text_of_log and "91234567" not in text_of_log
        )

    async def test_the_care_pipelines_contact_search_is_a_full_search(self, world: World) -> None:
        await world.customers([{"last_name": NAME}])
        intake, token = await create_user(
            world.session, world.tenant, permissions=[Permission.pipeline_register.value]
        )
        _, admin = await _admin(world)

        found = await world.client.get(
            "/v1/pipeline/contacts/search", params={"q": NAME}, headers=world.auth(token)
        )

        assert found.status_code == 200 and len(found.json()["items"]) == 1
        (entry,) = await _log(world, admin)
        assert (entry["action"], entry["user_id"]) == ("customer.searched_full", intake.id)
        assert entry["data"] == {"hits": 1, "via": "pipeline"}

    async def test_changes_to_users_tokens_assignments_and_the_blocklist(
        self, world: World
    ) -> None:
        admin_user, admin = await _admin(world)
        agent, _ = world.agents[0]

        created = await world.client.post(
            "/v1/users", json={"name": "Kari", "permissions": ["customer_handling"]}, headers=admin
        )
        changed = await world.client.patch(
            f"/v1/users/{agent.id}",
            json={"name": "Agent Zero", "permissions": ["customer_handling", "reporting"]},
            headers=admin,
        )
        token = await world.client.post(
            f"/v1/users/{agent.id}/tokens", json={"name": "dialer"}, headers=admin
        )
        revoked = await world.client.delete(f"/v1/tokens/{token.json()['id']}", headers=admin)
        patched = await world.client.patch(
            f"/v1/assignments/{world.assignment.id}", json={"lease_seconds": 120}, headers=admin
        )
        blocked = await world.client.post(
            "/v1/blocked-phones", json={"phone": PHONE, "reason": "asked"}, headers=admin
        )
        unblocked = await world.client.delete(f"/v1/blocked-phones/{PHONE}", headers=admin)

        answers = (created, changed, token, revoked, patched, blocked, unblocked)
        assert [r.status_code for r in answers] == [201, 200, 201, 200, 200, 201, 200]
        entries = await _log(world, admin, category="change")
        by_action = {e["action"]: e for e in entries}
        assert list(by_action) == [
            "blocklist.removed",
            "blocklist.added",
            "assignment.changed",
            "token.revoked",
            "token.created",
            "user.changed",
            "user.created",
        ]
        assert {e["user_id"] for e in entries} == {admin_user.id}
        assert by_action["user.changed"]["data"] == {
            "fields": ["name", "permissions"],
            "permissions_added": ["reporting"],
            "permissions_removed": [],
        }
        assert by_action["user.created"]["target_id"] == created.json()["id"]
        assert by_action["token.created"]["data"] == {"owner_id": agent.id, "scopes": None}
        assert by_action["assignment.changed"]["data"] == {"fields": ["lease_seconds"]}
        assert by_action["blocklist.added"]["target_id"] == blocked.json()["id"]
        text_of_log = json.dumps(entries, ensure_ascii=False)
        assert "91234567" not in text_of_log and "Kari" not in text_of_log

    async def test_next_and_outcomes_write_no_entry(self, world: World) -> None:
        await world.customers([{}])
        card = (await world.next()).json()

        outcome = await world.post(
            f"/v1/customers/{card['customer']['id']}/outcomes",
            lease_id=card["lease"]["id"],
            version=card["membership"]["version"],
            code="not_interested",
        )

        assert outcome.status_code == 200, outcome.text
        assert await world.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def _entry(tenant_id: int, user_id: int | None, action: AuditAction, at: datetime) -> AuditEntry:
    return AuditEntry(tenant_id=tenant_id, user_id=user_id, action=action.value, created_at=at)


class TestReading:
    async def test_only_administrators_of_the_tenant_read_it(self, world: World) -> None:
        _, admin = await _admin(world)
        other = await create_tenant(world.session, name="Other")
        _, other_admin = await create_user(world.session, other, permissions=ADMIN)
        await world.client.get("/v1/tenant/privacy", headers=admin)
        (c,) = await world.customers([{}])
        await world.client.get(f"/v1/customers/{c.id}", headers=world.auth(world.agents[0][1]))

        agent = await world.client.get("/v1/audit-log", headers=world.auth(world.agents[0][1]))
        export = await world.client.get(
            "/v1/audit-log/export", headers=world.auth(world.supervisor[1])
        )

        assert agent.status_code == 403 and export.status_code == 403
        assert len(await _log(world, admin)) == 1
        assert await _log(world, world.auth(other_admin)) == []

    async def test_filters_by_actor_action_category_target_and_time(self, world: World) -> None:
        admin_user, admin = await _admin(world)
        agent, _ = world.agents[0]
        t0 = datetime(2026, 12, 1, tzinfo=UTC)
        tenant = world.tenant.id
        world.session.add_all(
            [
                _entry(tenant, agent.id, AuditAction.customer_read, t0),
                _entry(tenant, agent.id, AuditAction.customer_history_read, t0 + timedelta(1)),
                _entry(tenant, admin_user.id, AuditAction.flow_created, t0 + timedelta(2)),
                _entry(tenant, None, AuditAction.retention_run, t0 + timedelta(3)),
            ]
        )
        await world.session.commit()

        def actions(entries: list[dict[str, Any]]) -> list[str]:
            return [e["action"] for e in entries]

        assert actions(await _log(world, admin, user_id=agent.id)) == [
            "customer.history_read",
            "customer.read",
        ]
        assert actions(await _log(world, admin, action="flow.created")) == ["flow.created"]
        assert actions(await _log(world, admin, category="privacy")) == ["privacy.retention_run"]
        since = (t0 + timedelta(1)).isoformat()
        until = (t0 + timedelta(3)).isoformat()
        assert actions(await _log(world, admin, since=since, until=until)) == [
            "flow.created",
            "customer.history_read",
        ]
        refused = await world.client.get(
            "/v1/audit-log", params={"action": "customer.deleted"}, headers=admin
        )
        naive = await world.client.get(
            "/v1/audit-log", params={"since": "2026-12-01T00:00:00"}, headers=admin
        )
        assert refused.status_code == 422 and naive.status_code == 422

    async def test_exported_as_json_lines_and_csv_oldest_first(
        self, world: World, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        admin_user, admin = await _admin(world)
        async with sessionmaker() as session:
            actor = Actor(world.tenant.id, admin_user.id, 3)
            record(session, actor, AuditAction.flow_created, ("flow", 5))
            record(session, actor, AuditAction.customer_exported, ("customer", 9))
            await session.commit()

        lines = await world.client.get("/v1/audit-log/export", headers=admin)
        table = await world.client.get(
            "/v1/audit-log/export",
            params={"format": "csv", "csv_style": "excel", "category": "privacy"},
            headers=admin,
        )

        assert lines.status_code == 200 and lines.headers["content-type"] == "application/x-ndjson"
        parsed = [json.loads(line) for line in lines.text.splitlines()]
        assert [(p["action"], p["target_id"], p["token_id"]) for p in parsed] == [
            ("flow.created", 5, 3),
            ("privacy.customer_exported", 9, 3),
        ]
        assert table.headers["content-type"].startswith("text/csv")
        assert table.text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(table.text.lstrip("\ufeff")), delimiter=";"))
        assert rows[0][:5] == ["id", "at", "user_id", "token_id", "action"]
        assert [row[4] for row in rows[1:]] == ["privacy.customer_exported"]


class TestAppendOnly:
    @pytest.mark.parametrize(
        "statement", ["UPDATE audit_log SET action = 'flow.created'", "DELETE FROM audit_log"]
    )
    async def test_the_database_refuses_to_change_or_delete_an_entry(
        self, world: World, statement: str
    ) -> None:
        record(world.session, Actor(world.tenant.id, None), AuditAction.customer_read)
        await world.session.commit()

        with pytest.raises(DBAPIError, match="append-only"):
            await world.session.execute(text(statement))
        await world.session.rollback()

        actions = await world.session.scalars(select(AuditEntry.action))
        assert list(actions) == ["customer.read"]
