"""GET /v1/reports/activity (rule 29): counted for the re-attributed user and time, without
excluded or corrected events (rules 26-27); money only with the revenue permission."""

import csv
import io
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from shared.models import Event, Permission
from tests.api.reports.conftest import Reports
from tests.factories import create_assignment, create_flow, create_tenant, create_user

D1 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
D2 = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
TODAY = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
RANGE = {"from": "2026-03-01", "to": "2026-03-31"}


def _by(rows: list[dict[str, Any]], *keys: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(row[k] for k in keys): row for row in rows}


class TestCounting:
    async def test_outcomes_and_attempts_per_user_and_day(self, reports: Reports) -> None:
        a, b = reports.user(0), reports.user(1)
        await reports.event(user=a, at=D1, code="sale")
        await reports.event(user=a, at=D1, code="sale")
        await reports.event(user=a, at=D1, code="not_interested")
        await reports.event(user=a, at=D2, kind="attempt", code="no_answer")
        await reports.event(user=b, at=D2, kind="attempt", code="call_back_later")
        # Not activity: never counted.
        await reports.event(user=a, at=D1, kind="customer_edited", code=None)

        body = await reports.activity(**RANGE, group_by="user,day")

        rows = _by(body["rows"], "user_id", "day")
        assert set(rows) == {(a.id, "2026-03-02"), (a.id, "2026-03-03"), (b.id, "2026-03-03")}
        assert rows[a.id, "2026-03-02"]["outcomes"] == {"sale": 2, "not_interested": 1}
        assert rows[a.id, "2026-03-02"]["user_name"] == a.name
        assert rows[a.id, "2026-03-03"]["attempts"] == {"no_answer": 1, "call_back_later": 0}
        assert rows[b.id, "2026-03-03"]["attempts"] == {"no_answer": 0, "call_back_later": 1}
        assert body["totals"]["outcomes"] == {"not_interested": 1, "sale": 2}
        assert body["from"] == "2026-03-01" and body["group_by"] == ["user", "day"]

    async def test_days_are_local_days_of_the_zone(self, reports: Reports) -> None:
        late = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # 00:30 on 3 March in Oslo
        await reports.event(user=reports.user(0), at=late)

        utc = await reports.activity(**RANGE, group_by="day")
        oslo = await reports.activity(**RANGE, group_by="day", tz="Europe/Oslo")

        assert [r["day"] for r in utc["rows"]] == ["2026-03-02"]
        assert [r["day"] for r in oslo["rows"]] == ["2026-03-03"]
        # The range is in the zone too: the last day of March ends at 22:00 UTC in summer time.
        at_edge = datetime(2026, 3, 31, 22, 30, tzinfo=UTC)
        await reports.event(user=reports.user(0), at=at_edge)
        oslo = await reports.activity(**RANGE, group_by="day", tz="Europe/Oslo")
        assert "2026-04-01" not in [r["day"] for r in oslo["rows"]]
        assert oslo["totals"]["outcomes"] == {"sale": 1}

    async def test_days_across_a_daylight_saving_switch(self, reports: Reports) -> None:
        # Oslo moves from +01:00 to +02:00 at 01:00 UTC on 29 March 2026.
        for at in (
            datetime(2026, 3, 28, 22, 59, tzinfo=UTC),  # 23:59 on the 28th
            datetime(2026, 3, 28, 23, 0, tzinfo=UTC),  # 00:00 on the 29th
            datetime(2026, 3, 29, 21, 59, tzinfo=UTC),  # 23:59 (summer time) on the 29th
            datetime(2026, 3, 29, 22, 0, tzinfo=UTC),  # 00:00 on the 30th
        ):
            await reports.event(user=reports.user(0), at=at)

        body = await reports.activity(**RANGE, group_by="day", tz="Europe/Oslo")

        days = {r["day"]: r["outcomes"]["sale"] for r in body["rows"]}
        assert days == {"2026-03-28": 1, "2026-03-29": 2, "2026-03-30": 1}

    async def test_grouped_by_assignment_and_team_with_filters(self, reports: Reports) -> None:
        w = reports.world
        a, b = reports.user(0), reports.user(1)
        a.team, b.team = "North", "South"
        await w.session.commit()
        other = await create_assignment(w.session, w.tenant, w.flow, name="Winter")
        await reports.event(user=a, at=D1)
        await reports.event(user=b, at=D1, assignment_id=other.id)

        body = await reports.activity(**RANGE, group_by="assignment,team")
        rows = _by(body["rows"], "assignment_id", "team")
        assert set(rows) == {(w.assignment.id, "North"), (other.id, "South")}
        assert rows[other.id, "South"]["assignment_name"] == "Winter"

        south = await reports.activity(**RANGE, group_by="user", team="South")
        assert [r["user_id"] for r in south["rows"]] == [b.id]
        only_a = await reports.activity(**RANGE, group_by="user", user_id=a.id)
        assert [r["user_id"] for r in only_a["rows"]] == [a.id]
        winter = await reports.activity(**RANGE, group_by="user", assignment_id=other.id)
        assert [r["user_id"] for r in winter["rows"]] == [b.id]


class TestFlagsAndCorrections:
    async def test_self_correction_as_original_user_moves_the_count(self, reports: Reports) -> None:
        a, b = reports.user(0), reports.user(1)
        old = await reports.event(user=a, at=D1, code="not_interested")
        new = await reports.event(
            user=b,
            at=TODAY,
            code="sale",
            corrects_event_id=old.id,
            report_user_id=a.id,
            report_at=old.created_at,
        )
        before = await reports.activity(**RANGE, group_by="user,day")
        old.corrected_by_event_id = new.id
        await reports.world.session.commit()

        after = await reports.activity(**RANGE, group_by="user,day")

        assert _by(before["rows"], "user_id", "day")[a.id, "2026-03-02"]["outcomes"] == {
            "not_interested": 1,
            "sale": 1,
        }
        rows = _by(after["rows"], "user_id", "day")
        assert set(rows) == {(a.id, "2026-03-02")}  # B, who corrected today, gets nothing
        assert rows[a.id, "2026-03-02"]["outcomes"] == {"sale": 1}

    async def test_excluded_event_leaves_the_report_and_stays_in_history(
        self, reports: Reports
    ) -> None:
        a = reports.user(0)
        await reports.event(user=a, at=D1, code="sale")
        excluded = await reports.event(user=a, at=D1, code="wrong_number")
        excluded.excluded_from_reports = True
        await reports.world.session.commit()

        body = await reports.activity(**RANGE, group_by="user")

        assert body["rows"][0]["outcomes"] == {"sale": 1}
        kept = await reports.world.session.scalar(select(Event).where(Event.id == excluded.id))
        assert kept is not None and kept.code == "wrong_number"
        history = await reports.get(
            f"/v1/customers/{reports.customer.id}/events", token=reports.world.agents[0][1]
        )
        assert history.status_code == 200, history.text
        shown = {e["id"]: e for e in history.json()["items"]}
        assert shown[excluded.id]["excluded_from_reports"] is True

    async def test_reattribution_to_another_user_and_day(self, reports: Reports) -> None:
        a, b = reports.user(0), reports.user(1)
        await reports.event(user=a, at=D1, code="sale", report_user_id=b.id, report_at=D2)

        body = await reports.activity(**RANGE, group_by="user,day")

        rows = _by(body["rows"], "user_id", "day")
        assert set(rows) == {(b.id, "2026-03-03")}
        assert rows[b.id, "2026-03-03"]["outcomes"] == {"sale": 1}
        # Out of the range by its counted time, though created inside it.
        april = await reports.activity(
            **{"from": "2026-03-01", "to": "2026-03-02"}, group_by="user"
        )
        assert april["rows"] == []


class TestFollowUps:
    async def test_kept_and_passed(self, reports: Reports) -> None:
        a, b = reports.user(0), reports.user(1)

        def handled(kept: bool) -> dict[str, Any]:
            return {
                "followup_handled": {
                    "due_at": D1.isoformat(),
                    "kind": "personal",
                    "owner_id": a.id,
                    "kept": kept,
                }
            }

        await reports.event(user=a, at=D1, code="sale", data=handled(True))
        await reports.event(user=a, at=D1, kind="attempt", code="no_answer", data=handled(False))
        await reports.event(
            user=None,
            at=D1,
            kind="followup_fell_back",
            code=None,
            data={"followup_at": D1.isoformat(), "former_owner_id": b.id, "after_minutes": 30},
        )

        body = await reports.activity(**RANGE, group_by="user")

        rows = _by(body["rows"], "user_id")
        assert (rows[a.id,]["followups_kept"], rows[a.id,]["followups_passed"]) == (1, 1)
        assert (rows[b.id,]["followups_kept"], rows[b.id,]["followups_passed"]) == (0, 1)
        assert (body["totals"]["followups_kept"], body["totals"]["followups_passed"]) == (1, 2)


class TestProductsAndMoney:
    async def _sales(self, reports: Reports) -> None:
        a = reports.user(0)
        sale = await reports.event(user=a, at=D1, code="sale")
        await reports.product(event=sale, quantity=2, amount_minor=300_00)
        await reports.product(event=sale, status="offered", name="Insurance", amount_minor=0)
        dropped = await reports.event(user=a, at=D1, code="sale", excluded_from_reports=True)
        await reports.product(event=dropped, amount_minor=999_00)
        # Registered without an event: counted for its own user and time.
        await reports.product(
            event=None, user_id=a.id, currency="EUR", amount_minor=50_00, created_at=D2
        )

    async def test_money_only_with_the_revenue_permission(self, reports: Reports) -> None:
        await self._sales(reports)
        a = reports.user(0)

        plain = await reports.activity(**RANGE, group_by="user")
        rich = await reports.activity(token=reports.revenue[1], **RANGE, group_by="user")

        row = _by(plain["rows"], "user_id")[a.id,]
        assert (row["sales"], row["sold_units"], row["products_offered"]) == (2, 3, 1)
        assert "money" not in row and "money" not in plain["totals"]
        assert _by(rich["rows"], "user_id")[a.id,]["money"] == {"EUR": 50_00, "NOK": 300_00}
        assert rich["totals"]["money"] == {"EUR": 50_00, "NOK": 300_00}

    async def test_csv_parses_and_matches_json(self, reports: Reports) -> None:
        await self._sales(reports)
        await reports.event(user=reports.user(1), at=D2, kind="attempt", code="no_answer")
        params = {**RANGE, "group_by": "user,day"}
        body = await reports.activity(token=reports.revenue[1], **params)

        r = await reports.get(
            "/v1/reports/activity", token=reports.revenue[1], format="csv", **params
        )

        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/csv")
        assert "filename=" in r.headers["content-disposition"]
        records = list(csv.DictReader(io.StringIO(r.text)))
        assert len(records) == len(body["rows"])
        for record, row in zip(records, body["rows"], strict=True):
            assert record["user_id"] == str(row["user_id"]) and record["day"] == row["day"]
            assert record["user_name"] == row["user_name"]
            for code in ("sale", "not_interested"):
                assert int(record.get(f"outcome:{code}") or 0) == row["outcomes"].get(code, 0)
            for kind, n in row["attempts"].items():
                assert int(record[f"attempt:{kind}"]) == n
            for currency in ("NOK", "EUR"):
                assert int(record[f"money:{currency}"]) == row["money"].get(currency, 0)
            for name in ("sales", "sold_units", "products_offered", "followups_kept"):
                assert int(record[name]) == row[name]


class TestAccess:
    async def test_without_reporting_403(self, reports: Reports) -> None:
        r = await reports.get("/v1/reports/activity", token=reports.world.agents[0][1], **RANGE)
        assert r.status_code == 403 and "reporting" in r.json()["detail"]

    async def test_another_tenants_assignment_or_user_404(self, reports: Reports) -> None:
        s = reports.world.session
        tenant = await create_tenant(s, name="Other")
        flow = await create_flow(s, tenant)
        theirs = await create_assignment(s, tenant, flow)
        their_user, _ = await create_user(s, tenant, permissions=[Permission.reporting.value])

        r1 = await reports.get("/v1/reports/activity", **RANGE, assignment_id=theirs.id)
        r2 = await reports.get("/v1/reports/activity", **RANGE, user_id=their_user.id)

        assert (r1.status_code, r2.status_code) == (404, 404)

    async def test_other_tenants_events_never_count(self, reports: Reports) -> None:
        s = reports.world.session
        tenant = await create_tenant(s, name="Other")
        _, token = await create_user(s, tenant, permissions=[Permission.reporting.value])
        await reports.event(user=reports.user(0), at=D1)

        body = await reports.activity(token=token, **RANGE, group_by="user")

        assert body["rows"] == [] and body["totals"]["outcomes"] == {}

    async def test_bad_queries_422(self, reports: Reports) -> None:
        cases = [
            {"from": "2025-01-01", "to": "2026-03-01"},
            {"from": "2026-03-02", "to": "2026-03-01"},
            {**RANGE, "tz": "Mars/Olympus"},
            {**RANGE, "group_by": "user,planet"},
            {"from": "yesterday", "to": "2026-03-01"},
        ]
        for params in cases:
            r = await reports.get("/v1/reports/activity", **params)
            assert r.status_code == 422, (params, r.text)
