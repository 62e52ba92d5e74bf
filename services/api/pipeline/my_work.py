"""The pipeline's part of My Work: the new requests you handle now (the item stays until you
take it up: in progress or beyond), your open tasks, and the overdue tasks of the requests you
handle (seed 002: overdue tasks visible to the manager)."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.api.auth.cache import Principal
from services.api.pagination import Page, PageRequest, by_id
from services.api.pipeline import requests, tasks
from services.api.pipeline.pages import REQUESTS
from services.api.pipeline.schemas import PipelineWork, RequestOut
from services.api.pipeline.views import view_of
from shared.models import PipelineRequest
from shared.pipeline.codes import RequestStatus
from shared.pipeline.delegation import acting_for
from shared.pipeline.store import PipelineStore

PREVIEW_ROWS = 10
_NEW = [RequestStatus.new]


async def new_requests_count(session: AsyncSession, principal: Principal, *, now: datetime) -> int:
    """How many new requests the caller handles now (My Work's home screen)."""
    store = PipelineStore(session, principal.tenant_id)
    handled = acting_for(principal.user_id, await requests.stand_ins_at(store, now))
    conditions = requests.list_conditions(handled_by=handled, statuses=_NEW)
    return await store.count(store.requests_where(*conditions))


async def pipeline_work(
    session: AsyncSession, principal: Principal, *, language: str, now: datetime
) -> PipelineWork:
    store = PipelineStore(session, principal.tenant_id)
    stand_ins = await requests.stand_ins_at(store, now)
    handled = acting_for(principal.user_id, stand_ins)
    new = store.requests_where(*requests.list_conditions(handled_by=handled, statuses=_NEW))
    page = PageRequest(REQUESTS, None, PREVIEW_ROWS)
    rows = (await session.scalars(page.window(new, PipelineRequest.id, descending=True))).all()
    view = await view_of(store, language=language, now=now, requests=rows, stand_ins=stand_ins)
    mine = tasks.list_conditions(executor_id=principal.user_id)
    overdue = tasks.list_conditions(overdue_at=now, handled_by=handled)
    return PipelineWork(
        new_requests=page.answer(Page[RequestOut], rows, key=by_id, item=view.request),
        new_requests_total=await store.count(new),
        open_tasks=await store.count(store.tasks_where(*mine)),
        overdue_tasks=await store.count(store.tasks_where(*overdue)),
    )
