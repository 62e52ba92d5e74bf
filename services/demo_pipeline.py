"""The care pipeline's part of the demo (docs/pipeline.md): a catalogue, who works where, two
requests (one from a prospect, one from a daughter for her mother) with tasks and history.

The people are demo customers already there, so the demo keeps its customer count; the demo
users get pipeline permissions: agent1 takes calls, agent2 and agent3 are relationship managers
(home nursing in Oslo and Bergen), the supervisor is the team lead.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import (
    Customer,
    Permission,
    PipelineRequest,
    PipelineRequestEvent,
    PipelineService,
    PipelineServiceMember,
    PipelineTask,
    Tenant,
)
from shared.pipeline.codes import (
    DecisionMaker,
    EventKind,
    Relation,
    RequestKind,
    RequestStatus,
    Role,
    TaskStatus,
)
from shared.pipeline.store import service_search_text

# Demo user key -> the pipeline permissions it gets besides its own.
PIPELINE_PERMISSIONS: dict[str, tuple[Permission, ...]] = {
    "supervisor": (Permission.pipeline_admin,),
    "agent1": (Permission.pipeline_register,),
    "agent2": (Permission.pipeline_register, Permission.pipeline_manage),
    "agent3": (Permission.pipeline_manage,),
}
# (kind, name, department, region, member keys)
CATALOGUE = (
    (RequestKind.service, "Hjemmesykepleie", "Hjemmetjenester", "Oslo", ("agent2",)),
    (RequestKind.service, "Hjemmesykepleie", "Hjemmetjenester", "Bergen", ("agent3",)),
    (RequestKind.stay, "Korttidsopphold", "Sykehjem", "Oslo", ("agent2",)),
    (RequestKind.product, "Trygghetsalarm", "Velferdsteknologi", "Oslo", ("supervisor",)),
)


async def load_pipeline_demo(
    session: AsyncSession, tenant: Tenant, users: dict[str, int], *, now: datetime | None = None
) -> None:
    """The catalogue and two requests; `users` maps demo user keys to ids."""
    now = now or datetime.now(UTC)
    services = []
    for kind, name, department, region, members in CATALOGUE:
        service = PipelineService(
            tenant_id=tenant.id,
            kind=kind.value,
            name=name,
            department=department,
            region=region,
            search_text=service_search_text(name, department, region),
        )
        session.add(service)
        await session.flush()
        services.append(service)
        for key in members:
            session.add(
                PipelineServiceMember(
                    tenant_id=tenant.id, service_id=service.id, user_id=users[key]
                )
            )
    ids = list(
        await session.scalars(
            select(Customer.id)
            .where(Customer.tenant_id == tenant.id)
            .order_by(Customer.id)
            .limit(3)
        )
    )
    prospect, daughter, mother = ids
    await session.execute(
        update(Customer).where(Customer.id.in_(ids)).values(account_type=Role.private_person.value)
    )
    await session.execute(
        update(Customer).where(Customer.id == daughter).values(account_type=Role.family.value)
    )
    alone = PipelineRequest(
        tenant_id=tenant.id,
        kind=RequestKind.product.value,
        service_id=services[3].id,
        status=RequestStatus.new.value,
        description="Ønsker trygghetsalarm etter et fall i forrige uke.",
        prospect_id=prospect,
        decision_maker=DecisionMaker.prospect.value,
        registered_by_id=users["agent1"],
        manager_id=users["agent2"],
    )
    for_mother = PipelineRequest(
        tenant_id=tenant.id,
        kind=RequestKind.service.value,
        service_id=services[0].id,
        status=RequestStatus.in_progress.value,
        description="Datteren ringer: moren trenger hjemmesykepleie etter hofteoperasjon.",
        prospect_id=mother,
        contact_id=daughter,
        relation=Relation.child_of.value,
        decision_maker=DecisionMaker.contact.value,
        registered_by_id=users["agent1"],
        manager_id=users["agent2"],
    )
    session.add_all([alone, for_mother])
    await session.flush()
    visit = PipelineTask(
        tenant_id=tenant.id,
        request_id=for_mother.id,
        title="Kartleggingsbesøk hjemme",
        executor_id=users["agent2"],
        status=TaskStatus.done.value,
        due_at=now - timedelta(days=1),
        created_by_id=users["agent2"],
    )
    session.add(visit)
    await session.flush()
    session.add(
        PipelineTask(
            tenant_id=tenant.id,
            request_id=for_mother.id,
            title="Bestille sykeseng",
            executor_id=users["agent3"],
            status=TaskStatus.open.value,
            due_at=now + timedelta(days=1),
            created_by_id=users["agent2"],
            follows_task_id=visit.id,
        )
    )
    for request in (alone, for_mother):
        session.add(
            PipelineRequestEvent(
                tenant_id=tenant.id,
                request_id=request.id,
                user_id=users["agent1"],
                kind=EventKind.registered.value,
                changes={"status": "new", "manager_id": request.manager_id, "source": "demo"},
            )
        )
    await session.flush()
