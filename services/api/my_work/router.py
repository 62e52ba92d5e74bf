"""My Work: today's and passed follow-ups of the calling user."""

from typing import Annotated
from zoneinfo import ZoneInfo, available_timezones

from fastapi import APIRouter, Query

from services.api.corrections.schemas import ToCorrectPage
from services.api.corrections.to_correct import to_correct_count, to_correct_page
from services.api.deps import Agent, Res
from services.api.errors import Unprocessable
from services.api.fields import TimeZone
from services.api.my_work.schemas import FollowUpPage, MyWorkOut, WorkList
from services.api.my_work.service import follow_up_page, visible_assignment_ids

router = APIRouter(prefix="/my-work", tags=["my work"])

PREVIEW_ROWS = 10


def _zone(tz: str) -> ZoneInfo:
    if tz not in available_timezones() and tz != "UTC":
        raise Unprocessable(f"unknown time zone '{tz}'")
    return ZoneInfo(tz)


TimeZoneQuery = Annotated[TimeZone, Query(description="Whose 'today': an IANA zone.")]


@router.get("", summary="My Work: every list's first rows", response_model=MyWorkOut)
async def my_work(resources: Res, agent: Agent, tz: TimeZoneQuery = "UTC") -> MyWorkOut:
    """Every list's first rows and totals: the agent's home screen and side panel."""
    zone = _zone(tz)
    async with resources.sessionmaker() as session:
        ids = await visible_assignment_ids(session, agent)
        pages = {
            which: await follow_up_page(
                session, agent, which, assignment_ids=ids, tz=zone, offset=0, limit=PREVIEW_ROWS
            )
            for which in WorkList
        }
        to_correct = await to_correct_count(session, agent)
    return MyWorkOut(
        personal_today=pages[WorkList.personal_today],
        shared_today=pages[WorkList.shared_today],
        to_follow_up=pages[WorkList.to_follow_up],
        passed_personal=pages[WorkList.passed_personal],
        passed_shared=pages[WorkList.passed_shared],
        to_correct=to_correct,
    )


@router.get("/to-correct", summary="My customers to correct", response_model=ToCorrectPage)
async def to_correct_list(
    resources: Res,
    agent: Agent,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ToCorrectPage:
    """Customers sent to me for correction, oldest first (declared before "/{which}")."""
    async with resources.sessionmaker() as session:
        return await to_correct_page(session, agent, offset=offset, limit=limit)


@router.get("/{which}", summary="One My Work list", response_model=FollowUpPage)
async def work_list(
    which: WorkList,
    resources: Res,
    agent: Agent,
    tz: TimeZoneQuery = "UTC",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> FollowUpPage:
    """One list, paginated: upcoming ones earliest first, passed ones newest first."""
    zone = _zone(tz)
    async with resources.sessionmaker() as session:
        ids = await visible_assignment_ids(session, agent)
        return await follow_up_page(
            session, agent, which, assignment_ids=ids, tz=zone, offset=offset, limit=limit
        )
