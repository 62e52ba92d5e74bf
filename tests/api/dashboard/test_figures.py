"""The figures behind the dashboard, at a fixed clock: follow-ups by due time, corrections,
contact hours, the words for an empty queue, and the day's chart."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from redis.asyncio import Redis
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.assignments.cache import AssignmentConfig
from services.api.assignments.schemas import QueueCounts
from services.api.dashboard.chart import hourly_bars
from services.api.dashboard.queue_figures import (
    DatabaseFigures,
    FollowUps,
    QueueFigures,
    database_figures,
    outside_hours,
)
from services.api.dashboard.words import why_empty
from shared.demo import SEED_FLOW
from shared.flows import FlowSpec
from shared.models import CORRECTION_STATE, Membership
from tests.api.dashboard.conftest import Desk

NOON = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")


async def _set(session: AsyncSession, customer_id: int, **values: object) -> None:
    await session.execute(
        update(Membership).where(Membership.customer_id == customer_id).values(**values)
    )
    await session.commit()


def _counts(**overrides: int) -> QueueCounts:
    values = dict.fromkeys(
        [
            "free",
            "in_cooldown",
            "shared_followups",
            "personal_followups",
            "at_attempt_limit",
            "blocked",
            "held",
        ],
        0,
    )
    return QueueCounts(**(values | overrides))


def _figures(counts: QueueCounts, *, outside: int = 0, **database: object) -> QueueFigures:
    values: dict[str, object] = {
        "shared": FollowUps(),
        "personal": FollowUps(),
        "in_correction": 0,
        "next_followup_at": None,
    }
    return QueueFigures(counts, DatabaseFigures(**(values | database)), outside)  # type: ignore[arg-type]


class TestDatabaseFigures:
    async def test_follow_ups_are_due_now_later_today_or_overdue(
        self, session: AsyncSession, desk: Desk
    ) -> None:
        c = [x.id for x in desk.customers]
        await _set(session, c[0], followup_kind="shared", followup_at=NOON - timedelta(minutes=5))
        await _set(session, c[1], followup_kind="shared", followup_at=NOON - timedelta(hours=1))
        await _set(
            session,
            c[2],
            state="interested",
            followup_kind="personal",
            followup_owner_id=desk.agent_id,
            followup_at=NOON + timedelta(hours=3),
        )
        await _set(session, c[3], followup_kind="shared", followup_at=NOON + timedelta(days=1))
        await _set(session, c[4], state=CORRECTION_STATE)

        found = await database_figures(session, desk.assignment.id, tz=UTC_ZONE, now=NOON)

        assert found.shared == FollowUps(due_now=1, later_today=0, overdue=1)
        assert found.personal == FollowUps(due_now=0, later_today=1, overdue=0)
        assert found.in_correction == 1
        assert found.next_followup_at == NOON + timedelta(hours=3)

    async def test_today_ends_at_the_assignments_local_midnight(
        self, session: AsyncSession, desk: Desk
    ) -> None:
        # 23:30 UTC is already tomorrow in Oslo (UTC+1 in December).
        await _set(
            session,
            desk.customers[0].id,
            followup_kind="shared",
            followup_at=NOON.replace(hour=23, minute=30),
        )
        utc = await database_figures(session, desk.assignment.id, tz=UTC_ZONE, now=NOON)
        oslo = await database_figures(
            session, desk.assignment.id, tz=ZoneInfo("Europe/Oslo"), now=NOON
        )
        assert utc.shared.later_today == 1
        assert oslo.shared.later_today == 0

    async def test_outside_contact_hours_counts_free_customers_in_closed_zones(
        self, session: AsyncSession, redis: Redis, desk: Desk
    ) -> None:
        a = desk.assignment
        a.contact_hours_start, a.contact_hours_end = "09:00", "17:00"
        session.add(a)
        await session.commit()
        c = desk.customers
        for customer, tz in zip(
            c, ["Europe/Oslo", "Asia/Tokyo", "Asia/Tokyo", None, None], strict=True
        ):
            customer.time_zone = tz
        session.add_all(c)
        await session.commit()
        await _set(session, c[2].id, followup_kind="shared", followup_at=NOON)  # not free
        config = AssignmentConfig(a, FlowSpec.model_validate(SEED_FLOW), (), frozenset())

        # Noon UTC: 13:00 in Oslo and UTC are open; 21:00 in Tokyo is not.
        assert await outside_hours(session, config, NOON) == 1
        # 06:00 UTC: Oslo 07:00 and UTC closed, Tokyo 15:00 open.
        assert await outside_hours(session, config, NOON.replace(hour=6)) == 3


class TestWhyEmpty:
    def test_a_queue_with_customers_says_how_many_are_ready(self) -> None:
        figures = _figures(_counts(free=3), shared=FollowUps(due_now=1))
        assert why_empty(figures, UTC_ZONE) == "4 customers ready to be served now."

    def test_an_empty_queue_names_every_reason_with_its_count(self) -> None:
        figures = _figures(
            _counts(free=2, held=1, in_cooldown=4, blocked=1),
            outside=2,
            in_correction=1,
            personal=FollowUps(later_today=2),
            next_followup_at=NOON + timedelta(hours=2),
        )
        assert why_empty(figures, ZoneInfo("Europe/Oslo")) == (
            "Nobody can be served now: 1 held by an agent; 4 cooling down after an attempt; "
            "2 outside contact hours; 1 with every phone number blocked; "
            "1 waiting for a correction; 2 follow-ups later today, the first at 15:00."
        )

    def test_a_queue_with_nothing_left_says_so(self) -> None:
        assert why_empty(_figures(_counts()), UTC_ZONE) == (
            "The queue is empty: no customer is left to call in this assignment."
        )


class TestChart:
    def test_bars_per_hour_and_code_with_escaped_labels(self) -> None:
        start = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)  # local midnight in Oslo
        svg = hourly_bars(
            {(9, "sale"): 3, (9, "<b>"): 1, (10, "sale"): 2},
            day_start=start,
            tz=ZoneInfo("Europe/Oslo"),
        )
        assert svg.startswith("<svg")
        assert "<title>09:00 sale: 3</title>" in svg
        assert "<title>10:00 sale: 2</title>" in svg
        assert "&lt;b&gt;" in svg
        assert "<b>" not in svg
        assert svg.count("<rect") == 3 + 2  # three bars, two legend keys

    def test_a_day_without_outcomes_says_so(self) -> None:
        svg = hourly_bars({}, day_start=NOON, tz=UTC_ZONE)
        assert "No outcomes yet today" in svg
