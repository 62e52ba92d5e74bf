"""A tenant with one of every kind of row a list shows, and how to add one more of each."""

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.fields import TIME_ZONES
from shared.demo import SEED_FLOW
from shared.infra.clock import utc_now
from shared.infra.tokens import hash_token, new_token
from shared.models import (
    CORRECTION_STATE,
    ApiToken,
    Assignment,
    AuditEntry,
    BlockedPhone,
    BulkJob,
    Consent,
    Correction,
    Customer,
    CustomFieldDefinition,
    Event,
    Flow,
    FollowUpKind,
    ImportJob,
    Membership,
    Permission,
    Register,
    Segment,
    Tenant,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from shared.webhooks import outbox
from shared.webhooks.signing import new_secret
from shared.webhooks.types import Message, WebhookType
from tests.factories import create_assignment, create_flow, create_tenant, create_user


def morning_zone(now: datetime) -> str:
    """A zone where it is 06:xx now, by a whole-hour offset: an hour of follow-ups from now on
    is "today" there whatever the time of the run. A place's zone, as the API takes (decision
    027: no Etc/GMT aliases); every whole-hour offset from -11 to +14 has one."""
    for zone in TIME_ZONES:
        local = now.astimezone(ZoneInfo(zone))
        if local.hour == 6 and local.minute == now.minute:
            return zone
    raise AssertionError(f"no zone where it is 06:{now.minute:02d} at {now.isoformat()}")


@dataclass
class Desk:
    client: httpx.AsyncClient
    session: AsyncSession
    tenant: Tenant
    admin: User
    token: str
    flow: Flow
    assignment: Assignment
    customer: Customer
    job: ImportJob
    endpoint: WebhookEndpoint
    now: datetime
    zone: str
    numbers: "itertools.count[int]" = field(default_factory=lambda: itertools.count(1))

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def saved(self, row: Any) -> Any:
        self.session.add(row)
        await self.session.commit()
        return row

    async def user(self) -> int:
        n = next(self.numbers)
        return (await self.saved(User(tenant_id=self.tenant.id, name=f"User {n}"))).id

    async def api_token(self) -> int:
        token = ApiToken(
            tenant_id=self.tenant.id, user_id=self.admin.id, token_hash=hash_token(new_token())
        )
        return (await self.saved(token)).id

    async def flow_row(self) -> int:
        n = next(self.numbers)
        flow = Flow(
            tenant_id=self.tenant.id,
            name=f"Flow {n}",
            states=SEED_FLOW["states"],
            outcomes=SEED_FLOW["outcomes"],
        )
        return (await self.saved(flow)).id

    async def assignment_row(self) -> int:
        n = next(self.numbers)
        return (await create_assignment(self.session, self.tenant, self.flow, name=f"A {n}")).id

    async def segment(self) -> int:
        n = next(self.numbers)
        segment = Segment(tenant_id=self.tenant.id, assignment_id=self.assignment.id, name=f"S {n}")
        return (await self.saved(segment)).id

    async def custom_field(self) -> int:
        n = next(self.numbers)
        return (await self.saved(CustomFieldDefinition(tenant_id=self.tenant.id, key=f"f{n}"))).id

    async def blocked_phone(self) -> int:
        n = next(self.numbers)
        return (await self.saved(BlockedPhone(tenant_id=self.tenant.id, phone=f"+4790{n:06d}"))).id

    async def audit_entry(self) -> int:
        entry = AuditEntry(tenant_id=self.tenant.id, user_id=self.admin.id, action="flow.created")
        return (await self.saved(entry)).id

    async def register(self) -> int:
        n = next(self.numbers)
        return (await self.saved(Register(tenant_id=self.tenant.id, name=f"register {n}"))).id

    async def consent(self) -> int:
        entry = Consent(
            tenant_id=self.tenant.id,
            customer_id=self.customer.id,
            channel="email",
            given=next(self.numbers) % 2 == 0,
            at=utc_now(),
        )
        return (await self.saved(entry)).id

    async def webhook_endpoint(self) -> int:
        return (await self.saved(_endpoint(self.tenant))).id

    async def webhook_delivery(self) -> int:
        at = datetime.now(UTC)
        message = Message(WebhookType.agent_state, {"n": next(self.numbers)}, None, at)
        await outbox.enqueue(self.session, self.tenant.id, message)
        await self.session.commit()
        found = await self.session.scalar(select(func.max(WebhookDelivery.id)))
        assert found is not None
        return int(found)

    async def event(self) -> int:
        event = Event(tenant_id=self.tenant.id, customer_id=self.customer.id, kind="note")
        return (await self.saved(event)).id

    async def found_customer(self) -> int:
        """A customer that search finds: a name starting with "Walker"."""
        n = next(self.numbers)
        customer = Customer(
            tenant_id=self.tenant.id,
            external_id=f"walker-{n}",
            first_name="Walker",
            last_name=f"{n * 7919 % 1000:03d}",
        )
        return (await self.saved(customer)).id

    async def import_job(self) -> int:
        job = ImportJob(
            tenant_id=self.tenant.id,
            assignment_id=self.assignment.id,
            user_id=self.admin.id,
            format="csv",
        )
        return (await self.saved(job)).id

    async def rejected_row(self) -> int:
        """One more rejected row at the end of the import's list, as a running import adds."""
        n = next(self.numbers)
        self.job.errors = [*self.job.errors, {"line": n, "external_id": f"x{n}", "reason": "no"}]
        await self.saved(self.job)
        return n

    async def bulk_job(self) -> int:
        job = BulkJob(tenant_id=self.tenant.id, user_id=self.admin.id, kind="move")
        return (await self.saved(job)).id

    async def member(self, **membership: Any) -> Customer:
        n = next(self.numbers)
        customer = await self.saved(
            Customer(tenant_id=self.tenant.id, external_id=f"m-{n}", first_name=f"Member {n}")
        )
        await self.saved(
            Membership(
                tenant_id=self.tenant.id,
                customer_id=customer.id,
                assignment_id=self.assignment.id,
                **{"state": "free", **membership},
            )
        )
        return customer

    def _soon(self, sign: int) -> datetime:
        """A time within the next (or last) hour, spread so that some times repeat."""
        return self.now + sign * timedelta(minutes=1 + next(self.numbers) % 5)

    async def personal(self, sign: int = 1, *, timed: bool = True) -> int:
        at = self._soon(sign) if timed else None
        customer = await self.member(
            state="interested",
            followup_kind=FollowUpKind.personal.value,
            followup_owner_id=self.admin.id,
            followup_at=at,
        )
        return customer.id

    async def shared(self, sign: int = 1) -> int:
        customer = await self.member(
            followup_kind=FollowUpKind.shared.value, followup_at=self._soon(sign)
        )
        return customer.id

    async def to_correct(self) -> int:
        customer = await self.member(state=CORRECTION_STATE)
        correction = Correction(
            tenant_id=self.tenant.id,
            customer_id=customer.id,
            assignment_id=self.assignment.id,
            owner_user_id=self.admin.id,
            requested_by_user_id=self.admin.id,
            previous_state="free",
        )
        return (await self.saved(correction)).id


def _endpoint(tenant: Tenant) -> WebhookEndpoint:
    return WebhookEndpoint(
        tenant_id=tenant.id,
        url="https://crm.example.com/hooks",
        event_types=["agent.state_changed"],
        secret=new_secret(),
    )


@pytest.fixture
async def desk(http: httpx.AsyncClient, session: AsyncSession) -> Desk:
    tenant = await create_tenant(session)
    admin, token = await create_user(
        session, tenant, name="Admin", permissions=[Permission.administrator.value]
    )
    flow = await create_flow(session, tenant)
    assignment = await create_assignment(session, tenant, flow)
    customer = Customer(tenant_id=tenant.id, external_id="history", first_name="History")
    session.add(customer)
    await session.commit()
    job = ImportJob(
        tenant_id=tenant.id, assignment_id=assignment.id, user_id=admin.id, format="csv", errors=[]
    )
    session.add(job)
    await session.commit()
    endpoint = _endpoint(tenant)
    session.add(endpoint)
    await session.commit()
    now = datetime.now(UTC)
    return Desk(
        http,
        session,
        tenant,
        admin,
        token,
        flow,
        assignment,
        customer,
        job,
        endpoint,
        now,
        morning_zone(now),
    )
