"""Small factory functions with keyword overrides; each commits what it creates."""

from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from services.queue import AssignmentQueue
from shared.demo import SEED_FLOW
from shared.flows import FlowSpec
from shared.infra.tokens import hash_token, new_token
from shared.membership.placement import load_queue_facts
from shared.models import (
    ApiToken,
    Assignment,
    Customer,
    Flow,
    Membership,
    Permission,
    Tenant,
    User,
)

AGENT = [Permission.customer_handling.value]


async def create_tenant(session: AsyncSession, *, name: str = "Acme") -> Tenant:
    tenant = Tenant(name=name, data_controller="Acme AS", processing_purpose="Sales")
    session.add(tenant)
    await session.commit()
    return tenant


async def create_user(
    session: AsyncSession,
    tenant: Tenant,
    *,
    name: str = "Agent",
    permissions: Sequence[str] = AGENT,
) -> tuple[User, str]:
    """A user and a bearer token for it."""
    user = User(tenant_id=tenant.id, name=name, permissions=list(permissions))
    session.add(user)
    await session.flush()
    token = new_token()
    session.add(ApiToken(tenant_id=tenant.id, user_id=user.id, token_hash=hash_token(token)))
    await session.commit()
    return user, token


async def create_flow(
    session: AsyncSession, tenant: Tenant, *, spec: dict[str, Any] | None = None
) -> Flow:
    spec = spec or SEED_FLOW
    flow = Flow(tenant_id=tenant.id, name="Sales", states=spec["states"], outcomes=spec["outcomes"])
    session.add(flow)
    await session.commit()
    return flow


async def create_assignment(
    session: AsyncSession, tenant: Tenant, flow: Flow, **overrides: Any
) -> Assignment:
    values: dict[str, Any] = {"name": "Autumn campaign", "lease_seconds": 300}
    values.update(overrides)
    assignment = Assignment(tenant_id=tenant.id, flow_id=flow.id, **values)
    session.add(assignment)
    await session.commit()
    return assignment


async def add_customers(
    session: AsyncSession,
    redis: Redis,
    assignment: Assignment,
    rows: Sequence[dict[str, Any]],
    *,
    state: str = "free",
) -> list[Customer]:
    """Customers with memberships in the assignment, committed and placed in its queue."""
    customers = []
    for i, row in enumerate(rows):
        values: dict[str, Any] = {"external_id": f"ext-{i}", "first_name": f"Customer {i}"}
        values.update(row)
        customer = Customer(tenant_id=assignment.tenant_id, **values)
        session.add(customer)
        customers.append(customer)
    await session.flush()
    for customer in customers:
        session.add(
            Membership(
                tenant_id=assignment.tenant_id,
                customer_id=customer.id,
                assignment_id=assignment.id,
                state=state,
            )
        )
    await session.commit()
    await place_all(session, redis, assignment)
    return customers


async def place_all(session: AsyncSession, redis: Redis, assignment: Assignment) -> None:
    flow = await session.get(Flow, assignment.flow_id)
    assert flow is not None
    spec = FlowSpec.model_validate({"states": flow.states, "outcomes": flow.outcomes})
    queue = AssignmentQueue(redis, assignment.id)
    async for batch in load_queue_facts(session, assignment, spec):
        await queue.place_sources(batch)
