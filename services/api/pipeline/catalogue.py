"""The tenant's catalogue of services (kind, department, region, colleagues), and finding a
colleague to manage a request by name or by "service + region" (seed 000, step 5)."""

from collections.abc import Sequence

from services.api.errors import Conflict, NotFound, Unprocessable
from services.api.pagination import Page, PageRequest
from services.api.pipeline.access import may_manage
from services.api.pipeline.pages import ColleagueKey
from services.api.pipeline.schemas import (
    ColleagueOut,
    ServiceChange,
    ServiceIn,
    ServiceOut,
    UserRef,
)
from services.api.pipeline.views import coded, service_ref
from shared.customers.search import fold
from shared.models import PipelineService, User
from shared.pipeline import labels
from shared.pipeline.store import PipelineStore, service_search_text


async def manager_candidate(store: PipelineStore, user_id: int) -> User:
    """A colleague who may manage requests or execute tasks: active, of the tenant, holding
    pipeline_manage or pipeline_admin (404 for another tenant's user, 422 for one who may
    not)."""
    user = await store.user(user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    if not user.active or not may_manage(user.permissions):
        raise Unprocessable(
            f"user {user_id} cannot manage requests (needs 'pipeline_manage')",
            code="not_a_pipeline_colleague",
        )
    return user


async def service_out(store: PipelineStore, service: PipelineService, language: str) -> ServiceOut:
    return (await services_out(store, [service], language))[0]


async def services_out(
    store: PipelineStore, services: Sequence[PipelineService], language: str
) -> list[ServiceOut]:
    """The services with their colleagues, read in one query each for a whole page."""
    members = await store.members([s.id for s in services])
    users = await store.users({i for ids in members.values() for i in ids})
    return [
        ServiceOut(
            id=s.id,
            kind=coded(labels.REQUEST_KIND, s.kind, language),
            name=s.name,
            department=s.department,
            region=s.region,
            active=s.active,
            members=[UserRef(id=i, name=users[i].name) for i in members[s.id] if i in users],
        )
        for s in services
    ]


async def _members(store: PipelineStore, ids: Sequence[int]) -> list[int]:
    for user_id in ids:
        await manager_candidate(store, user_id)
    return list(dict.fromkeys(ids))


async def _unique(store: PipelineStore, service: PipelineService) -> None:
    for other in await store.session.scalars(store.catalogue(include_inactive=True)):
        if other.id != service.id and (other.name, other.region) == (service.name, service.region):
            raise Conflict(
                f"the catalogue has '{service.name}' in '{service.region}' already",
                code="service_exists",
                id=other.id,
            )


async def add_service(store: PipelineStore, body: ServiceIn) -> PipelineService:
    service = PipelineService(
        tenant_id=store.tenant_id,
        kind=body.kind.value,
        name=body.name,
        department=body.department,
        region=body.region,
        search_text=service_search_text(body.name, body.department, body.region),
        active=True,
    )
    await _unique(store, service)
    members = await _members(store, body.member_ids)
    store.session.add(service)
    await store.session.flush()
    await store.set_members(service.id, members)
    await store.session.flush()
    return service


async def change_service(
    store: PipelineStore, service_id: int, body: ServiceChange
) -> PipelineService:
    service = await store.service(service_id)
    if service is None:
        raise NotFound(f"service {service_id} not found")
    for name in ("name", "department", "region", "active"):
        value = getattr(body, name)
        if value is not None:
            setattr(service, name, value)
    if body.kind is not None:
        service.kind = body.kind.value
    service.search_text = service_search_text(service.name, service.department, service.region)
    await _unique(store, service)
    if body.member_ids is not None:
        await store.set_members(service.id, await _members(store, body.member_ids))
    await store.session.flush()
    return service


async def colleagues(
    store: PipelineStore, text: str, *, page: PageRequest[ColleagueKey]
) -> Page[ColleagueOut]:
    """Colleagues who may manage requests, matching every word of `text` in their name and
    team, or together with one of their services (name, department, region): "home nursing
    Antwerp" finds the home nurses of Antwerp and not those of Ghent. By name, then id.

    Matched in Python over the tenant's active users past the cursor: a tenant has hundreds
    of them, not millions, and names are folded here the way customer names are (no folded
    column on users to match in SQL)."""
    words = fold(text).split()
    services_of = await store.services_of_users()
    query = page.window(store.active_users(), User.name, User.id, limited=False)
    found: list[tuple[User, ColleagueOut]] = []
    for user in await store.session.scalars(query):
        if not may_manage(user.permissions):
            continue
        own = fold(f"{user.name} {user.team}")
        if all(w in own for w in words):
            matched, by = services_of.get(user.id, []), "name"
        else:
            matched = [
                s
                for s in services_of.get(user.id, [])
                if all(w in own or w in s.search_text for w in words)
            ]
            by = "service"
        if by == "name" or matched:
            colleague = ColleagueOut(
                user=UserRef(id=user.id, name=user.name),
                team=user.team,
                services=[service_ref(s) for s in matched],
                matched_by=by,
            )
            found.append((user, colleague))
        if len(found) >= page.fetch:
            break
    return page.answer(
        Page[ColleagueOut], found, key=lambda f: (f[0].name, f[0].id), item=lambda f: f[1]
    )
