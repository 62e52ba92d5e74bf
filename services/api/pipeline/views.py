"""Rows as the API shows them: codes with labels in the caller's language, people by name,
the acting manager resolved at the request's time."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from services.api.pipeline.schemas import (
    Coded,
    HistoryOut,
    ProfileOut,
    RequestOut,
    ServiceRef,
    TaskOut,
    UserRef,
)
from shared.models import (
    Customer,
    PipelineRequest,
    PipelineRequestEvent,
    PipelineService,
    PipelineTask,
    User,
)
from shared.pipeline import labels
from shared.pipeline.delegation import acting_manager, active_at
from shared.pipeline.statuses import is_overdue
from shared.pipeline.store import PipelineStore


def coded(group: labels.Labels, code: str, language: str) -> Coded:
    return Coded(code=code, label=labels.label(group, code, language))


def profile_out(customer: Customer, language: str) -> ProfileOut:
    return ProfileOut(
        id=customer.id,
        external_id=customer.external_id,
        first_name=customer.first_name,
        last_name=customer.last_name,
        email=customer.email,
        phones=customer.phones,
        language=customer.language,
        role=coded(labels.ROLE, customer.account_type, language),
        city=customer.city,
    )


def service_ref(service: PipelineService) -> ServiceRef:
    return ServiceRef(
        id=service.id, name=service.name, department=service.department, region=service.region
    )


@dataclass
class View:
    """What showing some requests and tasks needs, read once for all of them."""

    language: str
    now: datetime
    stand_ins: dict[int, int]
    users: dict[int, User] = field(default_factory=dict)
    customers: dict[int, Customer] = field(default_factory=dict)
    services: dict[int, PipelineService] = field(default_factory=dict)

    def user(self, user_id: int) -> UserRef:
        found = self.users.get(user_id)
        return UserRef(id=user_id, name=found.name if found is not None else "")

    def request(self, row: PipelineRequest) -> RequestOut:
        service = self.services.get(row.service_id) if row.service_id else None
        contact = self.customers.get(row.contact_id) if row.contact_id else None
        return RequestOut(
            id=row.id,
            kind=coded(labels.REQUEST_KIND, row.kind, self.language),
            service=service_ref(service) if service is not None else None,
            status=coded(labels.REQUEST_STATUS, row.status, self.language),
            description=row.description,
            prospect=profile_out(self.customers[row.prospect_id], self.language),
            contact=profile_out(contact, self.language) if contact is not None else None,
            relation=coded(labels.RELATION, row.relation, self.language) if row.relation else None,
            decision_maker=coded(labels.DECISION_MAKER, row.decision_maker, self.language),
            registered_by=self.user(row.registered_by_id),
            manager=self.user(row.manager_id),
            acting_manager=self.user(acting_manager(row.manager_id, self.stand_ins)),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def task(self, row: PipelineTask) -> TaskOut:
        return TaskOut(
            id=row.id,
            request_id=row.request_id,
            title=row.title,
            executor=self.user(row.executor_id),
            status=coded(labels.TASK_STATUS, row.status, self.language),
            due_at=row.due_at,
            overdue=is_overdue(row.status, row.due_at, self.now),
            notes=row.notes,
            created_by=self.user(row.created_by_id),
            follows_task_id=row.follows_task_id,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def history(self, row: PipelineRequestEvent) -> HistoryOut:
        return HistoryOut(
            id=row.id,
            kind=row.kind,
            user=self.user(row.user_id) if row.user_id is not None else None,
            changes=row.changes,
            created_at=row.created_at,
        )


async def view_of(
    store: PipelineStore,
    *,
    language: str,
    now: datetime,
    requests: Sequence[PipelineRequest] = (),
    tasks: Sequence[PipelineTask] = (),
    events: Sequence[PipelineRequestEvent] = (),
    stand_ins: dict[int, int] | None = None,
) -> View:
    """Read who and what these rows name, in one query per table."""
    if stand_ins is None:
        stand_ins = active_at(await store.windows_at(now), now)
    user_ids: set[int] = set(stand_ins.values())
    for r in requests:
        user_ids |= {r.registered_by_id, r.manager_id}
    for t in tasks:
        user_ids |= {t.executor_id, t.created_by_id}
    user_ids |= {e.user_id for e in events if e.user_id is not None}
    customer_ids = _ids((r.prospect_id, r.contact_id) for r in requests)
    service_ids = {r.service_id for r in requests if r.service_id is not None}
    return View(
        language=language,
        now=now,
        stand_ins=stand_ins,
        users=await store.users(user_ids),
        customers=await store.customers(customer_ids),
        services=await store.services(service_ids),
    )


def _ids(pairs: Iterable[tuple[int, int | None]]) -> set[int]:
    return {i for pair in pairs for i in pair if i is not None}
