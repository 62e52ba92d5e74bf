"""/v1/assignments and their segments over HTTP."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.queue import AssignmentQueue, Claimed
from shared.models import Assignment, CustomFieldDefinition, Flow, Membership, Segment
from tests.api.orgs import Org
from tests.factories import add_customers, create_assignment, create_flow


async def assignment_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Assignment)) or 0)


async def declare_field(session: AsyncSession, org: Org, key: str) -> None:
    session.add(CustomFieldDefinition(tenant_id=org.tenant.id, key=key, type="number"))
    await session.commit()


async def claim_order(redis: Redis, assignment: Assignment, n: int) -> list[int]:
    """The customers n agents get, one each (an agent holds one customer at a time)."""
    queue = AssignmentQueue(redis, assignment.id)
    order = []
    for agent in range(n):
        got = await queue.claim(user_id=10_000 + agent, lease_seconds=60)
        assert isinstance(got, Claimed)
        order.append(got.customer_id)
    return order


class TestCreateAssignment:
    async def test_creates_with_defaults(self, acme: Org, session: AsyncSession) -> None:
        flow = await create_flow(session, acme.tenant)
        r = await acme.post("/v1/assignments", {"name": "Autumn", "flow_id": flow.id}, role="setup")
        assert r.status_code == 201
        a = r.json()
        assert a["presentation_mode"] == "preview"
        assert (a["attempt_limit"], a["attempt_limit_action"]) == (None, "last")
        assert (a["lease_seconds"], a["cooldown_seconds"]) == (300, 0)
        assert a["personal_followups_first"] is True
        assert a["sort_keys"] == []
        assert (a["visible_to_all"], a["active"]) == (True, True)

    async def test_creates_with_every_setting(self, acme: Org, session: AsyncSession) -> None:
        flow = await create_flow(session, acme.tenant)
        await declare_field(session, acme, "score")
        body: dict[str, Any] = {
            "name": "Winter",
            "flow_id": flow.id,
            "presentation_mode": "predictive",
            "attempt_limit": 5,
            "attempt_limit_action": "stop",
            "cooldown_seconds": 3600,
            "lease_seconds": 120,
            "sort_keys": [
                {"key": "custom:score", "direction": "desc"},
                {"key": "attempts"},
                {"key": "last_attempt_at", "direction": "asc"},
            ],
            "personal_followups_first": False,
            "contact_hours_start": "09:00",
            "contact_hours_end": "20:30",
            "default_time_zone": "Europe/Oslo",
            "visible_to_all": False,
            "visible_user_ids": [acme.users["agent"].id],
            "visible_from": "2030-01-01T08:00:00+01:00",
            "visible_until": "2030-02-01T08:00:00+01:00",
            "active": False,
        }
        r = await acme.post("/v1/assignments", body, role="setup")
        assert r.status_code == 201
        a = r.json()
        assert a["sort_keys"][1] == {"key": "attempts", "direction": "asc"}
        assert a["visible_user_ids"] == [acme.users["agent"].id]
        assert datetime.fromisoformat(a["visible_from"]) == datetime(2030, 1, 1, 7, tzinfo=UTC)
        for key in ("attempt_limit_action", "contact_hours_end", "default_time_zone", "active"):
            assert a[key] == body[key]

    async def test_an_invalid_sort_key_answers_422(self, acme: Org, session: AsyncSession) -> None:
        flow = await create_flow(session, acme.tenant)
        for sort_keys in (
            [{"key": "first_name"}],
            [{"key": "attempts", "direction": "up"}],
            [{"key": "attempts"}, {"key": "attempts", "direction": "desc"}],
            [
                {"key": "attempts"},
                {"key": "import_order"},
                {"key": "last_attempt_at"},
                {"key": "attempts"},
            ],
        ):
            body = {"name": "A", "flow_id": flow.id, "sort_keys": sort_keys}
            r = await acme.post("/v1/assignments", body, role="setup")
            assert r.status_code == 422, sort_keys
        assert await assignment_count(session) == 0

    async def test_a_sort_key_on_an_undeclared_custom_field_answers_422(
        self, acme: Org, globex: Org, session: AsyncSession
    ) -> None:
        flow = await create_flow(session, acme.tenant)
        await declare_field(session, globex, "score")
        body = {"name": "A", "flow_id": flow.id, "sort_keys": [{"key": "custom:score"}]}
        r = await acme.post("/v1/assignments", body, role="setup")
        assert r.status_code == 422
        assert "custom:score" in r.json()["detail"]

    async def test_another_tenants_flow_answers_422_and_creates_nothing(
        self, acme: Org, globex: Org, session: AsyncSession
    ) -> None:
        theirs = await create_flow(session, globex.tenant)
        r = await acme.post("/v1/assignments", {"name": "A", "flow_id": theirs.id}, role="setup")
        assert r.status_code == 422
        assert r.json()["detail"] == f"flow {theirs.id} not found"
        assert await assignment_count(session) == 0

    async def test_another_tenants_user_in_visibility_answers_422(
        self, acme: Org, globex: Org, session: AsyncSession
    ) -> None:
        flow = await create_flow(session, acme.tenant)
        body = {
            "name": "A",
            "flow_id": flow.id,
            "visible_to_all": False,
            "visible_user_ids": [globex.users["agent"].id],
        }
        r = await acme.post("/v1/assignments", body, role="setup")
        assert r.status_code == 422

    async def test_inconsistent_settings_answer_422(self, acme: Org, session: AsyncSession) -> None:
        flow = await create_flow(session, acme.tenant)
        for bad in (
            {"contact_hours_start": "09:00"},
            {"contact_hours_start": "09:00", "contact_hours_end": "09:00"},
            {"contact_hours_start": "9:00", "contact_hours_end": "17:00"},
            {"contact_hours_start": "24:00", "contact_hours_end": "17:00"},
            {"default_time_zone": "Mars/Olympus"},
            {"default_time_zone": "Europe"},
            {"lease_seconds": 5},
            {"lease_seconds": 86_401},
            {"attempt_limit": 0},
            {"cooldown_seconds": -1},
            {"presentation_mode": "auto"},
            {"visible_from": "2030-01-01T00:00:00"},
            {"visible_from": "2030-02-01T00:00:00Z", "visible_until": "2030-01-01T00:00:00Z"},
            {"flow_id": 2**63},
            {"colour": "red"},
        ):
            r = await acme.post(
                "/v1/assignments", {"name": "A", "flow_id": flow.id, **bad}, role="setup"
            )
            assert r.status_code == 422, bad
        assert await assignment_count(session) == 0

    async def test_malformed_json_answers_422(self, client: httpx.AsyncClient, acme: Org) -> None:
        headers = {**acme.auth("setup"), "Content-Type": "application/json"}
        r = await client.post("/v1/assignments", content=b'{"name": ', headers=headers)
        assert r.status_code == 422

    async def test_needs_the_assignment_setup_permission(
        self, acme: Org, session: AsyncSession
    ) -> None:
        flow = await create_flow(session, acme.tenant)
        r = await acme.post("/v1/assignments", {"name": "A", "flow_id": flow.id}, role="agent")
        assert r.status_code == 403


class TestListAssignments:
    async def test_setup_sees_every_assignment_of_its_tenant(
        self, acme: Org, globex: Org, session: AsyncSession
    ) -> None:
        flow = await create_flow(session, acme.tenant)
        own = [
            await create_assignment(session, acme.tenant, flow),
            await create_assignment(session, acme.tenant, flow, visible_to_all=False, active=False),
        ]
        await create_assignment(session, globex.tenant, await create_flow(session, globex.tenant))
        r = await acme.get("/v1/assignments", role="setup")
        assert r.status_code == 200
        assert [a["id"] for a in r.json()["items"]] == [a.id for a in own]

    async def test_an_agent_sees_only_what_is_visible_to_it_now(
        self, acme: Org, session: AsyncSession
    ) -> None:
        flow = await create_flow(session, acme.tenant)
        agent = acme.users["agent"]
        later = datetime.now(UTC) + timedelta(days=1)
        visible = [
            await create_assignment(session, acme.tenant, flow),
            await create_assignment(
                session, acme.tenant, flow, visible_to_all=False, visible_user_ids=[agent.id]
            ),
        ]
        await create_assignment(session, acme.tenant, flow, visible_to_all=False)
        await create_assignment(session, acme.tenant, flow, active=False)
        await create_assignment(session, acme.tenant, flow, visible_from=later)
        r = await acme.get("/v1/assignments", role="agent")
        assert r.status_code == 200
        assert [a["id"] for a in r.json()["items"]] == [a.id for a in visible]
        first = await acme.get("/v1/assignments", role="agent", limit=1)
        rest = await acme.get("/v1/assignments", role="agent", cursor=first.json()["next"])
        assert [a["id"] for a in first.json()["items"] + rest.json()["items"]] == [
            a.id for a in visible
        ]
        assert rest.json()["next"] is None

    async def test_needs_customer_handling_or_assignment_setup(self, acme: Org) -> None:
        r = await acme.get("/v1/assignments", role="reporter")
        assert r.status_code == 403


class TestGetAssignment:
    async def test_includes_the_live_queue_counts(
        self, acme: Org, session: AsyncSession, redis: Redis
    ) -> None:
        flow = await create_flow(session, acme.tenant)
        assignment = await create_assignment(session, acme.tenant, flow)
        await add_customers(session, redis, assignment, [{}, {}, {}])
        await AssignmentQueue(redis, assignment.id).claim(
            user_id=acme.users["agent"].id, lease_seconds=60
        )
        r = await acme.get(f"/v1/assignments/{assignment.id}", role="agent")
        assert r.status_code == 200
        body = r.json()
        assert body["name"] == assignment.name
        assert body["queue"]["free"] == 2
        assert body["queue"]["held"] == 1
        assert body["queue"]["blocked"] == 0

    async def test_another_tenants_assignment_answers_404(
        self, acme: Org, globex: Org, session: AsyncSession
    ) -> None:
        theirs = await create_assignment(
            session, globex.tenant, await create_flow(session, globex.tenant)
        )
        r = await acme.get(f"/v1/assignments/{theirs.id}", role="setup")
        assert r.status_code == 404

    async def test_an_assignment_hidden_from_the_agent_answers_404(
        self, acme: Org, session: AsyncSession
    ) -> None:
        flow = await create_flow(session, acme.tenant)
        hidden = await create_assignment(session, acme.tenant, flow, visible_to_all=False)
        assert (await acme.get(f"/v1/assignments/{hidden.id}", role="agent")).status_code == 404
        assert (await acme.get(f"/v1/assignments/{hidden.id}", role="setup")).status_code == 200


class TestUpdateAssignment:
    async def test_changes_only_the_fields_sent(self, acme: Org, session: AsyncSession) -> None:
        flow = await create_flow(session, acme.tenant)
        assignment = await create_assignment(session, acme.tenant, flow, cooldown_seconds=60)
        r = await acme.patch(
            f"/v1/assignments/{assignment.id}",
            {"lease_seconds": 600, "attempt_limit": None, "name": "Renamed"},
            role="setup",
        )
        assert r.status_code == 200
        body = r.json()
        assert (body["lease_seconds"], body["name"], body["cooldown_seconds"]) == (
            600,
            "Renamed",
            60,
        )

    async def test_new_sort_keys_reorder_the_queue(
        self, acme: Org, session: AsyncSession, redis: Redis
    ) -> None:
        await declare_field(session, acme, "score")
        flow = await create_flow(session, acme.tenant)
        assignment = await create_assignment(
            session, acme.tenant, flow, sort_keys=[{"key": "custom:score", "direction": "asc"}]
        )
        customers = await add_customers(
            session, redis, assignment, [{"custom": {"score": s}} for s in (2, 3, 1)]
        )
        r = await acme.patch(
            f"/v1/assignments/{assignment.id}",
            {"sort_keys": [{"key": "custom:score", "direction": "desc"}]},
            role="setup",
        )
        assert r.status_code == 200
        order = await claim_order(redis, assignment, 3)
        assert order == [customers[1].id, customers[0].id, customers[2].id]

    async def test_another_tenants_assignment_answers_404_and_stays_unchanged(
        self, acme: Org, globex: Org, session: AsyncSession
    ) -> None:
        theirs = await create_assignment(
            session, globex.tenant, await create_flow(session, globex.tenant)
        )
        r = await acme.patch(f"/v1/assignments/{theirs.id}", {"name": "Mine now"}, role="setup")
        assert r.status_code == 404
        await session.refresh(theirs)
        assert theirs.name == "Autumn campaign"

    async def test_switching_to_another_tenants_flow_answers_422(
        self, acme: Org, globex: Org, session: AsyncSession
    ) -> None:
        assignment = await create_assignment(
            session, acme.tenant, await create_flow(session, acme.tenant)
        )
        theirs: Flow = await create_flow(session, globex.tenant)
        r = await acme.patch(
            f"/v1/assignments/{assignment.id}", {"flow_id": theirs.id}, role="setup"
        )
        assert r.status_code == 422
        await session.refresh(assignment)
        assert assignment.flow_id != theirs.id

    async def test_a_result_with_half_the_contact_hours_answers_422(
        self, acme: Org, session: AsyncSession
    ) -> None:
        flow = await create_flow(session, acme.tenant)
        assignment = await create_assignment(
            session, acme.tenant, flow, contact_hours_start="09:00", contact_hours_end="17:00"
        )
        r = await acme.patch(
            f"/v1/assignments/{assignment.id}", {"contact_hours_end": None}, role="setup"
        )
        assert r.status_code == 422
        assert "contact_hours" in r.json()["detail"]
        await session.refresh(assignment)
        assert assignment.contact_hours_end == "17:00"

    async def test_null_for_a_required_field_answers_422(
        self, acme: Org, session: AsyncSession
    ) -> None:
        flow = await create_flow(session, acme.tenant)
        assignment = await create_assignment(session, acme.tenant, flow)
        r = await acme.patch(
            f"/v1/assignments/{assignment.id}", {"lease_seconds": None}, role="setup"
        )
        assert r.status_code == 422

    async def test_needs_the_assignment_setup_permission(
        self, acme: Org, session: AsyncSession
    ) -> None:
        flow = await create_flow(session, acme.tenant)
        assignment = await create_assignment(session, acme.tenant, flow)
        r = await acme.patch(f"/v1/assignments/{assignment.id}", {"active": False}, role="agent")
        assert r.status_code == 403


class TestSegments:
    async def test_lists_unsegmented_first_with_sizes(
        self, acme: Org, session: AsyncSession, redis: Redis
    ) -> None:
        flow = await create_flow(session, acme.tenant)
        assignment = await create_assignment(session, acme.tenant, flow)
        customers = await add_customers(session, redis, assignment, [{}, {}, {}])
        created = await acme.post(
            f"/v1/assignments/{assignment.id}/segments", {"name": "Hot leads"}, role="setup"
        )
        assert created.status_code == 201
        segment_id = created.json()["id"]
        membership = await session.scalar(
            select(Membership).where(Membership.customer_id == customers[0].id)
        )
        assert membership is not None
        membership.segment_id = segment_id
        await session.commit()
        r = await acme.get(f"/v1/assignments/{assignment.id}/segments", role="agent")
        assert r.status_code == 200
        assert [(s["id"], s["name"], s["size"]) for s in r.json()["items"]] == [
            (None, "unsegmented", 2),
            (segment_id, "Hot leads", 1),
        ]

    async def test_a_duplicate_name_answers_409(self, acme: Org, session: AsyncSession) -> None:
        flow = await create_flow(session, acme.tenant)
        assignment = await create_assignment(session, acme.tenant, flow)
        path = f"/v1/assignments/{assignment.id}/segments"
        assert (await acme.post(path, {"name": "Hot leads"}, role="setup")).status_code == 201
        assert (await acme.post(path, {"name": "Hot leads"}, role="setup")).status_code == 409
        assert (await acme.post(path, {"name": "hot LEADS"}, role="setup")).status_code == 409
        assert (await acme.post(path, {"name": "Unsegmented"}, role="setup")).status_code == 409
        other = await create_assignment(session, acme.tenant, flow)
        r = await acme.post(
            f"/v1/assignments/{other.id}/segments", {"name": "Hot leads"}, role="setup"
        )
        assert r.status_code == 201

    async def test_another_tenants_assignment_answers_404_and_gets_no_segment(
        self, acme: Org, globex: Org, session: AsyncSession
    ) -> None:
        theirs = await create_assignment(
            session, globex.tenant, await create_flow(session, globex.tenant)
        )
        path = f"/v1/assignments/{theirs.id}/segments"
        assert (await acme.get(path, role="setup")).status_code == 404
        assert (await acme.post(path, {"name": "Mine"}, role="setup")).status_code == 404
        assert await session.scalar(select(Segment)) is None

    async def test_creating_needs_the_assignment_setup_permission(
        self, acme: Org, session: AsyncSession
    ) -> None:
        flow = await create_flow(session, acme.tenant)
        assignment = await create_assignment(session, acme.tenant, flow)
        r = await acme.post(
            f"/v1/assignments/{assignment.id}/segments", {"name": "X"}, role="agent"
        )
        assert r.status_code == 403
