"""Retention (issue 15 point 5, decision 034): customers without activity for a policy's
months are anonymised by the worker, reported in the privacy log, and leave their queue."""

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.worker.jobs.retention import run_retention, run_retention_once
from shared.models import AuditEntry, Customer, Event, Meeting, Membership, RetentionPolicy
from shared.privacy.retention import months_before
from tests.factories import add_customers, create_assignment, create_tenant
from tests.worker.conftest import NOW, Campaign, ago, ahead


async def _policy(campaign: Campaign, months: int, assignment_id: int | None = None) -> None:
    campaign.session.add(
        RetentionPolicy(tenant_id=campaign.tenant.id, assignment_id=assignment_id, months=months)
    )
    await campaign.session.commit()


async def _anonymised(session: AsyncSession) -> set[int]:
    ids = await session.scalars(
        select(Customer.id)
        .where(Customer.anonymised_at.is_not(None))
        .execution_options(populate_existing=True)
    )
    return set(ids)


class TestRetention:
    async def test_inactive_customers_are_anonymised_and_reported(
        self, campaign: Campaign, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        session, tenant = campaign.session, campaign.tenant
        (held,) = await campaign.customers(1)
        claimed = await campaign.queue.claim(user_id=campaign.agent.id, lease_seconds=300)
        assert getattr(claimed, "customer_id", None) == held.id
        old, recent_event, coming_followup, coming_meeting, edited = await campaign.customers(5)
        loose = Customer(tenant_id=tenant.id, external_id="loose", first_name="Åse")
        session.add(loose)
        other = await create_assignment(session, tenant, campaign.flow, name="Long")
        await add_customers(session, campaign.redis, other, [{"external_id": "longer"}])
        foreign_tenant = await create_tenant(session, name="Other")
        session.add(Customer(tenant_id=foreign_tenant.id, external_id="f", first_name="Bjørg"))
        base = {"tenant_id": tenant.id}
        session.add_all(
            [
                Event(**base, customer_id=old.id, kind="attempt", created_at=ago(days=500)),
                Event(**base, customer_id=recent_event.id, kind="attempt", created_at=ago(days=30)),
                Meeting(**base, customer_id=coming_meeting.id, starts_at=ahead(days=3)),
            ]
        )
        await session.execute(
            update(Membership)
            .where(Membership.customer_id == coming_followup.id)
            .values(followup_at=ahead(days=10), followup_kind="shared")
        )
        await session.execute(
            update(Customer).where(Customer.id == edited.id).values(updated_at=ago(days=5))
        )
        await session.commit()
        await _policy(campaign, 12)
        # Four years: everything made today (the test's "now" is in 2030) stays.
        await _policy(campaign, 48, other.id)

        count = await run_retention(sessionmaker=sessionmaker, redis=campaign.redis, now=NOW)
        again = await run_retention(sessionmaker=sessionmaker, redis=campaign.redis, now=NOW)

        assert (count, again) == (2, 0)
        assert await _anonymised(session) == {old.id, loose.id}
        assert await campaign.queue.placement_of(old.id) is None
        assert await campaign.queue.placement_of(recent_event.id) is not None
        stored = await session.get(Customer, old.id, populate_existing=True)
        assert stored is not None and (stored.first_name, stored.phone_1) == ("", None)
        event = await session.scalar(
            select(Event).where(Event.customer_id == old.id, Event.kind == "anonymised")
        )
        assert event is not None and event.user_id is None
        assert event.data == {"by": "retention", "months": 12}
        (entry,) = await session.scalars(select(AuditEntry))
        assert (entry.action, entry.user_id, entry.tenant_id) == (
            "privacy.retention_run",
            None,
            tenant.id,
        )
        assert entry.data == {
            "policy": "tenant",
            "months": 12,
            "cutoff": months_before(NOW, 12).isoformat(),
            "anonymised": 2,
            "held_skipped": 1,
        }

    async def test_an_assignment_policy_covers_only_its_customers(
        self, campaign: Campaign, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        (member,) = await campaign.customers(1)
        loose = Customer(tenant_id=campaign.tenant.id, external_id="loose")
        campaign.session.add(loose)
        await campaign.session.commit()
        await _policy(campaign, 6, campaign.assignment.id)

        count = await run_retention(sessionmaker=sessionmaker, redis=campaign.redis, now=NOW)

        assert count == 1
        assert await _anonymised(campaign.session) == {member.id}
        entry = await campaign.session.scalar(select(AuditEntry))
        assert entry is not None and entry.target_id == campaign.assignment.id
        assert entry.data["policy"] == "assignment"

    async def test_one_replica_runs_it_per_interval(
        self, campaign: Campaign, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        now_s = NOW.timestamp()
        first = await run_retention_once(
            sessionmaker=sessionmaker, redis=campaign.redis, now_s=now_s
        )
        second = await run_retention_once(
            sessionmaker=sessionmaker, redis=campaign.redis, now_s=now_s + 1
        )

        assert (first, second) == (0, None)


class TestMonthsBefore:
    def test_calendar_months_and_short_months(self) -> None:
        at = datetime(2027, 3, 31, 8, 30, tzinfo=UTC)

        assert months_before(at, 1) == datetime(2027, 2, 28, 8, 30, tzinfo=UTC)
        assert months_before(at, 13) == datetime(2026, 2, 28, 8, 30, tzinfo=UTC)
        assert months_before(at, 24) == datetime(2025, 3, 31, 8, 30, tzinfo=UTC)
        assert months_before(datetime(2028, 3, 29, tzinfo=UTC), 1) == datetime(
            2028, 2, 29, tzinfo=UTC
        )
