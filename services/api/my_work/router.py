"""My Work: today's and passed follow-ups of the calling user."""

from typing import Annotated
from zoneinfo import ZoneInfo, available_timezones

from fastapi import APIRouter, Depends, Query

from services.api.corrections.schemas import ToCorrectPage
from services.api.corrections.to_correct import (
    TO_CORRECT,
    ToCorrectKey,
    to_correct_count,
    to_correct_page,
)
from services.api.deps import Agent, Res
from services.api.errors import Unprocessable
from services.api.fields import TimeZone
from services.api.my_work.schemas import FollowUpPage, MyWorkOut, WorkList
from services.api.my_work.service import (
    MY_WORK,
    FollowUpKey,
    follow_up_page,
    visible_assignment_ids,
)
from services.api.pagination import PageRequest, paging
from services.api.pipeline.access import Lang, Manager, Now, may_manage
from services.api.pipeline.my_work import new_requests_count, pipeline_work
from services.api.pipeline.schemas import PipelineWork

router = APIRouter(prefix="/my-work", tags=["my work"])

PREVIEW_ROWS = 10

FollowUpPages = Annotated[PageRequest[FollowUpKey], Depends(paging(MY_WORK))]
ToCorrectPages = Annotated[PageRequest[ToCorrectKey], Depends(paging(TO_CORRECT))]


def _zone(tz: str) -> ZoneInfo:
    if tz not in available_timezones() and tz != "UTC":
        raise Unprocessable(f"unknown time zone '{tz}'")
    return ZoneInfo(tz)


TimeZoneQuery = Annotated[TimeZone, Query(description="Whose 'today': an IANA zone.")]


@router.get("", summary="My Work: every list's first rows", response_model=MyWorkOut)
async def my_work(resources: Res, agent: Agent, now: Now, tz: TimeZoneQuery = "UTC") -> MyWorkOut:
    """Every list's first rows and totals: the agent's home screen and side panel."""
    zone = _zone(tz)
    async with resources.sessionmaker() as session:
        ids = await visible_assignment_ids(session, agent)
        pages = {
            which: await follow_up_page(
                session,
                agent,
                which,
                assignment_ids=ids,
                tz=zone,
                page=PageRequest(MY_WORK, None, PREVIEW_ROWS),
            )
            for which in WorkList
        }
        to_correct = await to_correct_count(session, agent)
        new_requests = (
            await new_requests_count(session, agent, now=now)
            if may_manage(agent.permissions)
            else 0
        )
    return MyWorkOut(
        personal_today=pages[WorkList.personal_today],
        shared_today=pages[WorkList.shared_today],
        to_follow_up=pages[WorkList.to_follow_up],
        passed_personal=pages[WorkList.passed_personal],
        passed_shared=pages[WorkList.passed_shared],
        to_correct=to_correct,
        new_requests=new_requests,
    )


@router.get("/requests", summary="My care pipeline items")
async def pipeline_items(
    resources: Res, manager: Manager, language: Lang, now: Now
) -> PipelineWork:
    """The care pipeline's items: new requests you handle now (yours and those delegated to
    you), your open tasks, overdue tasks of your requests (declared before "/{which}")."""
    async with resources.sessionmaker() as session:
        return await pipeline_work(session, manager, language=language, now=now)


@router.get("/to-correct", summary="My customers to correct", response_model=ToCorrectPage)
async def to_correct_list(resources: Res, agent: Agent, page: ToCorrectPages) -> ToCorrectPage:
    """Customers sent to me for correction, oldest first (declared before "/{which}")."""
    async with resources.sessionmaker() as session:
        return await to_correct_page(session, agent, page=page)


@router.get("/{which}", summary="One My Work list", response_model=FollowUpPage)
async def work_list(
    which: WorkList,
    resources: Res,
    agent: Agent,
    page: FollowUpPages,
    tz: TimeZoneQuery = "UTC",
) -> FollowUpPage:
    """One list, paginated: upcoming ones earliest first, passed ones newest first."""
    zone = _zone(tz)
    async with resources.sessionmaker() as session:
        ids = await visible_assignment_ids(session, agent)
        return await follow_up_page(session, agent, which, assignment_ids=ids, tz=zone, page=page)
