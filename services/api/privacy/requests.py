"""GDPR requests through the API: a customer's subject-access export, and the retention
policies the worker applies (issue 15 point 5, decision 034)."""

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.audit.recording import audit, audit_now
from services.api.auth.cache import Principal
from services.api.customer_details.access import tenant_customer
from services.api.errors import NotFound
from services.api.privacy.schemas import AssignmentRetention, RetentionOut, SubjectAccessOut
from services.api.resources import Resources
from shared.audit import AuditAction
from shared.models import Assignment, RetentionPolicy, Tenant
from shared.privacy.export import subject_access


async def export(res: Resources, principal: Principal, customer_id: int) -> SubjectAccessOut:
    """Everything held about the customer; the export is in the privacy log before the
    answer leaves."""
    async with res.sessionmaker() as session:
        customer = await tenant_customer(session, principal, customer_id)
        sections = await subject_access(session, principal.tenant_id, customer.id)
    await audit_now(res, principal, AuditAction.customer_exported, ("customer", customer_id))
    return SubjectAccessOut(
        customer_id=customer_id, exported_at=datetime.now(UTC), sections=sections
    )


async def retention(session: AsyncSession, tenant_id: int) -> RetentionOut:
    policies = list(
        await session.scalars(
            select(RetentionPolicy)
            .where(RetentionPolicy.tenant_id == tenant_id)
            .order_by(RetentionPolicy.assignment_id)
        )
    )
    return RetentionOut(
        months=next((p.months for p in policies if p.assignment_id is None), None),
        assignments=[
            AssignmentRetention(assignment_id=p.assignment_id, months=p.months)
            for p in policies
            if p.assignment_id is not None
        ],
    )


async def set_retention(
    res: Resources, principal: Principal, *, assignment_id: int | None, months: int | None
) -> RetentionOut:
    """Set or remove (`months` None) the tenant's policy or one assignment's."""
    async with res.session() as session:
        # One writer per tenant at a time: the policy is one row per scope.
        await session.scalar(
            select(Tenant.id).where(Tenant.id == principal.tenant_id).with_for_update()
        )
        if assignment_id is not None:
            owned = await session.scalar(
                select(Assignment.id).where(
                    Assignment.id == assignment_id, Assignment.tenant_id == principal.tenant_id
                )
            )
            if owned is None:
                raise NotFound(f"assignment {assignment_id} not found")
        policy = await session.scalar(
            select(RetentionPolicy).where(
                RetentionPolicy.tenant_id == principal.tenant_id,
                RetentionPolicy.assignment_id.is_(None)
                if assignment_id is None
                else RetentionPolicy.assignment_id == assignment_id,
            )
        )
        if months is None and policy is not None:
            await session.delete(policy)
        elif months is not None and policy is None:
            session.add(
                RetentionPolicy(
                    tenant_id=principal.tenant_id,
                    assignment_id=assignment_id,
                    months=months,
                    updated_by=principal.user_id,
                )
            )
        elif months is not None and policy is not None:
            policy.months = months
            policy.updated_by = principal.user_id
        target = ("assignment", assignment_id) if assignment_id is not None else None
        audit(session, principal, AuditAction.retention_changed, target, months=months)
        await session.flush()
        return await retention(session, principal.tenant_id)
