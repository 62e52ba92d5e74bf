"""/v1/pipeline: labels, contacts, the catalogue and colleagues, requests (rules 30-31).

Tasks and delegations are in work_routes.py; the pipeline's part of My Work is served under
/v1/my-work. Every route checks a permission of the pipeline bundle (access.py) and reads
only the caller's tenant: another tenant's ids answer 404.
"""

from typing import Annotated

from fastapi import APIRouter, Query, status

from services.api.audit.recording import audit_now
from services.api.deps import Res
from services.api.errors import refuses
from services.api.fields import DbId, IdPath, Text
from services.api.pagination import Page, by_id
from services.api.pipeline import catalogue, contacts, requests
from services.api.pipeline.access import Intake, Lang, Manager, Now, PipelineAdmin, Reader
from services.api.pipeline.notify import tell_manager
from services.api.pipeline.pages import (
    ColleaguePages,
    ContactPages,
    RequestPages,
    ServiceKey,
    ServicePages,
)
from services.api.pipeline.schemas import (
    Coded,
    ColleagueOut,
    ContactHits,
    ContactIn,
    LabelsOut,
    ProfileIn,
    ProfileOut,
    RequestChange,
    RequestDetails,
    RequestIn,
    RequestOut,
    ServiceChange,
    ServiceIn,
    ServiceOut,
)
from services.api.pipeline.views import profile_out, view_of
from services.api.pipeline.work_routes import router as work_router
from services.api.ratelimit.deps import limited
from services.api.ratelimit.limiter import Expensive
from shared.audit import AuditAction
from shared.models import PipelineRequest, PipelineService
from shared.pipeline import labels
from shared.pipeline.codes import RequestStatus
from shared.pipeline.delegation import acting_for, acting_manager
from shared.pipeline.store import PipelineStore

router = APIRouter(prefix="/pipeline", tags=["pipeline"])

# What the pipeline's writes refuse beyond their schemas (decision 027): rules against the
# tenant's stored data, and a profile named by `id` or `new`, not both or neither.
PROFILE_RULES = (
    "a profile named by neither or both of `id` and `new`, an anonymised one, a new one that "
    "does not fit the tenant's custom fields, a contact person who is the prospect"
)
COLLEAGUE_RULE = "a user who is no pipeline colleague (without pipeline_manage)"

# History entries shown with a request: a request's life is some dozens of changes.
HISTORY_ROWS = 100
SearchText = Annotated[Text, Query(min_length=1, max_length=200)]


def _service_key(service: PipelineService) -> ServiceKey:
    return (service.name, service.region, service.id)


@router.get("/labels")
async def get_labels(_reader: Reader, language: Lang) -> LabelsOut:
    """Every fixed code (statuses, kinds, roles, relations, ...) with its label in your
    profile's language, else Accept-Language's (en, fr, nb)."""
    return LabelsOut(
        language=language,
        groups={
            name: [Coded(code=c, label=text) for c, text in labels.group(name, language)]
            for name in labels.GROUPS
        },
    )


@router.get(
    "/contacts/search", response_model=ContactHits, dependencies=[limited(Expensive.search)]
)
async def search_contacts(
    resources: Res,
    reader: Reader,
    language: Lang,
    q: SearchText,
    page: ContactPages,
) -> ContactHits:
    """Step 1: does this person exist? Name (accents folded), phone, e-mail or external id;
    the best hits first with name, role, e-mail and place, and how many in all."""
    async with resources.sessionmaker() as session:
        found = await contacts.search(session, reader.tenant_id, q, page=page, language=language)
    # Every profile of the tenant is searched: a full search (decision 034), without the query.
    await audit_now(
        resources, reader, AuditAction.customer_searched_full, hits=len(found.items), via="pipeline"
    )
    return found


@router.post(
    "/contacts",
    responses=refuses("custom fields that do not fit the tenant's"),
    status_code=status.HTTP_201_CREATED,
)
async def create_contact(
    body: ProfileIn, resources: Res, intake: Intake, language: Lang
) -> ProfileOut:
    """A new contact or prospect; a likely duplicate answers 409 `duplicate_profile` with
    `duplicate_of` (the existing profile)."""
    async with resources.session() as session:
        store = PipelineStore(session, intake.tenant_id)
        customer = await contacts.create_profile(store, body, user_id=intake.user_id)
        return profile_out(customer, language)


@router.get("/services")
async def list_services(
    resources: Res,
    reader: Reader,
    language: Lang,
    page: ServicePages,
    include_inactive: bool = False,
) -> Page[ServiceOut]:
    """The catalogue: stays, services and products by department and region; by name, then
    region."""
    async with resources.sessionmaker() as session:
        store = PipelineStore(session, reader.tenant_id)
        columns = (PipelineService.name, PipelineService.region, PipelineService.id)
        query = page.window(store.catalogue(include_inactive=include_inactive), *columns)
        found = (await session.scalars(query)).all()
        shown = await catalogue.services_out(store, found, language)
        by_service = dict(zip(found, shown, strict=True))
        return page.answer(Page[ServiceOut], found, key=_service_key, item=by_service.__getitem__)


@router.post("/services", responses=refuses(COLLEAGUE_RULE), status_code=status.HTTP_201_CREATED)
async def add_service(
    body: ServiceIn, resources: Res, admin: PipelineAdmin, language: Lang
) -> ServiceOut:
    """Add a stay, service or product to the catalogue, with the colleagues who provide it."""
    async with resources.session() as session:
        store = PipelineStore(session, admin.tenant_id)
        service = await catalogue.add_service(store, body)
        return await catalogue.service_out(store, service, language)


@router.patch("/services/{service_id}", responses=refuses(COLLEAGUE_RULE))
async def change_service(
    service_id: IdPath, body: ServiceChange, resources: Res, admin: PipelineAdmin, language: Lang
) -> ServiceOut:
    """Rename, move, retire (`active: false`) a service or set its colleagues."""
    async with resources.session() as session:
        store = PipelineStore(session, admin.tenant_id)
        service = await catalogue.change_service(store, service_id, body)
        return await catalogue.service_out(store, service, language)


@router.get("/colleagues")
async def find_colleagues(
    resources: Res,
    reader: Reader,
    q: SearchText,
    page: ColleaguePages,
) -> Page[ColleagueOut]:
    """Who may manage a request: by name, or by service and region ("home nursing Antwerp")."""
    async with resources.sessionmaker() as session:
        return await catalogue.colleagues(PipelineStore(session, reader.tenant_id), q, page=page)


async def _details(
    store: PipelineStore, request: PipelineRequest, *, language: str, now: Now
) -> RequestDetails:
    tasks = await store.tasks_of(request.id)
    history = await store.history(request.id, limit=HISTORY_ROWS)
    view = await view_of(
        store, language=language, now=now, requests=[request], tasks=tasks, events=history
    )
    return RequestDetails(
        **view.request(request).model_dump(),
        tasks=[view.task(t) for t in tasks],
        history=[view.history(e) for e in history],
    )


@router.post(
    "/requests",
    responses=refuses(
        f"{PROFILE_RULES}, a service of another kind, a manager who is no pipeline colleague"
    ),
    status_code=status.HTTP_201_CREATED,
)
async def register_request(
    body: RequestIn, resources: Res, intake: Intake, language: Lang, now: Now
) -> RequestDetails:
    """Register a request with its prospect (and contact person), new or existing; the
    manager (default: you) is told in their event stream and finds it in My Work."""
    async with resources.session() as session:
        store = PipelineStore(session, intake.tenant_id)
        request = await requests.register(store, intake, body)
        details = await _details(store, request, language=language, now=now)
    await tell_manager(resources, request, details.acting_manager.id, by_user_id=intake.user_id)
    return details


@router.get("/requests")
async def list_requests(
    resources: Res,
    reader: Reader,
    language: Lang,
    now: Now,
    page: RequestPages,
    mine: Annotated[
        bool, Query(description="Only those you handle now: yours, and those delegated to you.")
    ] = False,
    manager_id: DbId | None = None,
    status_in: Annotated[list[RequestStatus] | None, Query(alias="status")] = None,
) -> Page[RequestOut]:
    """Requests, newest first."""
    async with resources.sessionmaker() as session:
        store = PipelineStore(session, reader.tenant_id)
        stand_ins = await requests.stand_ins_at(store, now)
        handled = acting_for(reader.user_id, stand_ins) if mine else None
        conditions = requests.list_conditions(
            handled_by=handled, manager_id=manager_id, statuses=status_in or []
        )
        query = page.window(store.requests_where(*conditions), PipelineRequest.id, descending=True)
        rows = (await session.scalars(query)).all()
        view = await view_of(store, language=language, now=now, requests=rows, stand_ins=stand_ins)
        return page.answer(Page[RequestOut], rows, key=by_id, item=view.request)


@router.get("/requests/{request_id}")
async def get_request(
    request_id: IdPath, resources: Res, reader: Reader, language: Lang, now: Now
) -> RequestDetails:
    """A request with its tasks and history (who, when, what changed)."""
    async with resources.sessionmaker() as session:
        store = PipelineStore(session, reader.tenant_id)
        request = await requests.found_request(store, request_id)
        return await _details(store, request, language=language, now=now)


@router.patch("/requests/{request_id}", responses=refuses(COLLEAGUE_RULE))
async def change_request(
    request_id: IdPath,
    body: RequestChange,
    resources: Res,
    manager: Manager,
    language: Lang,
    now: Now,
) -> RequestDetails:
    """Move its status on, hand it to a colleague (`manager_id`, who is told), change its text.
    Its manager, whoever stands in for them, or a team lead."""
    async with resources.session() as session:
        store = PipelineStore(session, manager.tenant_id)
        request = await requests.found_request(store, request_id, for_update=True)
        stand_ins = await requests.stand_ins_at(store, now)
        changes = await requests.change(store, manager, request, body, stand_ins)
        details = await _details(store, request, language=language, now=now)
    if "manager_id" in changes:
        await tell_manager(
            resources,
            request,
            acting_manager(request.manager_id, stand_ins),
            by_user_id=manager.user_id,
        )
    return details


@router.post("/requests/{request_id}/contact", responses=refuses(PROFILE_RULES))
async def set_contact(
    request_id: IdPath,
    body: ContactIn,
    resources: Res,
    manager: Manager,
    language: Lang,
    now: Now,
) -> RequestDetails:
    """Add (or replace) the request's contact person, existing or new, with the relation."""
    async with resources.session() as session:
        store = PipelineStore(session, manager.tenant_id)
        request = await requests.found_request(store, request_id, for_update=True)
        stand_ins = await requests.stand_ins_at(store, now)
        await requests.set_contact(store, manager, request, body, stand_ins)
        return await _details(store, request, language=language, now=now)


router.include_router(work_router)
