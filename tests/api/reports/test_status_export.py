"""GET /v1/assignments/{id}/status-export: one row per customer, streamed in batches."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from services.api.reports import status_export
from shared.models import CustomFieldDefinition, Meeting, Membership, Segment
from tests.api.reports.conftest import Reports
from tests.factories import create_assignment, create_flow, create_tenant


async def _setup(reports: Reports) -> None:
    w = reports.world
    w.session.add(CustomFieldDefinition(tenant_id=w.tenant.id, key="region"))
    segment = Segment(tenant_id=w.tenant.id, assignment_id=w.assignment.id, name="Hot")
    w.session.add(segment)
    await w.session.flush()
    more = await w.customers([{"external_id": "b-1"}, {"external_id": "b-2"}])
    c = reports.customer
    c.custom = {"region": "Vestland"}
    await w.session.execute(
        update(Membership)
        .where(Membership.customer_id == c.id)
        .values(
            state="sale",
            state_set_by="user",
            state_set_by_user_id=reports.user(0).id,
            state_set_at=datetime(2026, 3, 2, 10, tzinfo=UTC),
            segment_id=segment.id,
            attempts=2,
        )
    )
    now = datetime.now(UTC)
    w.session.add_all(
        [
            Meeting(tenant_id=w.tenant.id, customer_id=c.id, starts_at=now + timedelta(days=1)),
            Meeting(
                tenant_id=w.tenant.id,
                customer_id=c.id,
                starts_at=now + timedelta(hours=1),
                cancelled_at=now,
            ),
            Meeting(tenant_id=w.tenant.id, customer_id=more[0].id, starts_at=now - timedelta(1)),
        ]
    )
    await w.session.commit()
    sale = await reports.event(user=reports.user(0), at=now, code="sale")
    await reports.product(event=sale, quantity=2, amount_minor=1500_00)


def _path(reports: Reports) -> str:
    return f"/v1/assignments/{reports.world.assignment.id}/status-export"


class TestStatusExport:
    async def test_csv_has_every_customer_and_its_status(
        self, reports: Reports, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        await _setup(reports)
        # Several batches even for three customers: the keyset paging is what is tested.
        monkeypatch.setattr(status_export, "BATCH_SIZE", 2)

        r = await reports.get(_path(reports), format="csv")

        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/csv")
        records = {rec["external_id"]: rec for rec in csv.DictReader(io.StringIO(r.text))}
        assert set(records) == {"ext-0", "b-1", "b-2"}
        row = records["ext-0"]
        assert (row["first_name"], row["last_name"]) == ("Åse", "Ødegård")
        assert row["custom:region"] == "Vestland"
        assert (row["state"], row["state_name"], row["segment"]) == ("sale", "Sale", "Hot")
        assert row["state_set_by_user_id"] == str(reports.user(0).id)
        assert row["state_set_at"].startswith("2026-03-02T10:00")
        assert row["attempts"] == "2"
        assert row["products"] == "Boat x 2 (sold)"  # no money without the revenue permission
        assert row["next_meeting_at"] != ""  # the cancelled earlier meeting is skipped
        meeting = datetime.fromisoformat(row["next_meeting_at"])
        assert meeting > datetime.now(UTC) + timedelta(hours=12)
        assert records["b-1"]["next_meeting_at"] == ""  # a past meeting is not next
        assert (records["b-1"]["state_name"], records["b-1"]["segment"]) == ("Free", "")

    async def test_json_with_revenue_shows_amounts(self, reports: Reports) -> None:
        await _setup(reports)

        r = await reports.get(_path(reports), token=reports.revenue[1], format="json")
        csv_r = await reports.get(_path(reports), token=reports.revenue[1], format="csv")

        assert r.status_code == 200, r.text
        rows = {row["external_id"]: row for row in json.loads(r.text)}
        assert len(rows) == 3
        assert rows["ext-0"]["products"] == [
            {
                "name": "Boat",
                "status": "sold",
                "quantity": 2,
                "amount_minor": 1500_00,
                "currency": "NOK",
            }
        ]
        assert rows["ext-0"]["custom"] == {"region": "Vestland"}
        records = {rec["external_id"]: rec for rec in csv.DictReader(io.StringIO(csv_r.text))}
        assert records["ext-0"]["products"] == "Boat x 2 (sold, 1500.00 NOK)"

    async def test_access(self, reports: Reports) -> None:
        s = reports.world.session
        tenant = await create_tenant(s, name="Other")
        theirs = await create_assignment(s, tenant, await create_flow(s, tenant))

        forbidden = await reports.get(_path(reports), token=reports.world.agents[0][1])
        hidden = await reports.get(f"/v1/assignments/{theirs.id}/status-export")
        missing = await reports.get("/v1/assignments/999999/status-export")

        assert forbidden.status_code == 403
        assert (hidden.status_code, missing.status_code) == (404, 404)


class TestExcelStyle:
    async def test_semicolons_and_a_byte_order_mark_for_excel(self, reports: Reports) -> None:
        r = await reports.get(_path(reports), format="csv", csv_style="excel")
        assert r.status_code == 200, r.text
        assert r.content.startswith("\ufeff".encode())
        text = r.content.decode("utf-8-sig")
        records = list(csv.DictReader(io.StringIO(text), delimiter=";"))
        assert (records[0]["first_name"], records[0]["last_name"]) == ("Åse", "Ødegård")

    async def test_the_activity_report_too(self, reports: Reports) -> None:
        now = datetime.now(UTC)
        await reports.event(user=reports.user(0), at=now, code="sale")
        day = now.date().isoformat()
        r = await reports.get(
            "/v1/reports/activity", format="csv", csv_style="excel", **{"from": day, "to": day}
        )
        assert r.status_code == 200, r.text
        assert r.text.startswith("\ufeff") and ";" in r.text.splitlines()[0]
