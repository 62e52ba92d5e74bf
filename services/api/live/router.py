"""Server-sent events: the caller's own stream, and an assignment's stream for supervisors."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from sqlalchemy import select

from services.api.access import require_any
from services.api.auth.cache import Principal
from services.api.deps import CurrentUser, Res
from services.api.errors import ApiError, NotFound, Unprocessable
from services.api.fields import IdPath
from services.api.live.events import EventStreamResponse, OnIdle, event_lines, start_at
from services.queue import streams
from shared.models import Assignment, Permission

router = APIRouter(tags=["live"])

# Supervisors: whoever reports on, sets up or handles an assignment's customers beyond agents.
Supervisor = Annotated[
    Principal,
    require_any(Permission.reporting, Permission.assignment_setup, Permission.extended_handling),
]
# How long an assignment counts as watched after its stream last renewed the mark.
WATCHED_TTL_MS = 45_000

_STREAM: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "An endless text/event-stream: `id: <stream id>`, `event: <type>`, "
        "`data: <json>` per event; comment lines as keep-alive.",
        "content": {
            "text/event-stream": {
                "example": "id: 1764927060000-0\nevent: customer_moved_in\n"
                'data: {"customer_id": 1042, "assignment_id": 3}\n\n'
            }
        },
    }
}
LastEventIdHeader = Annotated[str | None, Header(alias="Last-Event-ID", max_length=64)]
LastEventIdQuery = Annotated[
    str | None,
    Query(
        alias="last_event_id",
        max_length=64,
        description="For clients that cannot set the Last-Event-ID header.",
    ),
]


class TooManyStreams(ApiError):
    status_code = 503
    default_code = "too_many_streams"


def _resume_from(header: str | None, query: str | None) -> str | None:
    value = header or query
    if not value:
        return None
    if not streams.STREAM_ID.match(value):
        raise Unprocessable("Last-Event-ID must be a stream id such as '1700000000000-0'")
    return value


async def _open(
    resources: Res, key: str, resume: str | None, *, touch: OnIdle | None = None
) -> EventStreamResponse:
    """Take one of the process's stream slots (503 when none is left), fix where the stream
    starts, and hand the slot to the response, which gives it back when the stream ends."""
    hub = resources.streams
    if not hub.acquire():
        raise TooManyStreams("too many open event streams on this server; retry shortly")
    try:
        after = await start_at(hub, key, resume)
        if touch is not None:
            await touch()
    except BaseException:
        hub.release()
        raise
    return EventStreamResponse(event_lines(hub, key, after=after, touch=touch), hub=hub)


@router.get(
    "/me/events",
    summary="My live events",
    response_class=EventStreamResponse,
    responses=_STREAM,
    status_code=200,
)
async def my_events(
    resources: Res,
    user: CurrentUser,
    last_event_id: LastEventIdHeader = None,
    last_event_id_query: LastEventIdQuery = None,
) -> EventStreamResponse:
    """Your own events: customers moved into an assignment you work on, your personal
    follow-ups coming due, your current customer's lease about to expire."""
    resume = _resume_from(last_event_id, last_event_id_query)
    return await _open(resources, streams.user_stream(user.user_id), resume)


@router.get(
    "/assignments/{assignment_id}/events",
    summary="An assignment's live events",
    response_class=EventStreamResponse,
    responses=_STREAM,
    status_code=200,  # the stream's class declares none; OpenAPI needs one
)
async def assignment_events(
    assignment_id: IdPath,
    resources: Res,
    supervisor: Supervisor,
    last_event_id: LastEventIdHeader = None,
    last_event_id_query: LastEventIdQuery = None,
) -> EventStreamResponse:
    """The assignment's live view: `stats` every few seconds (queue depth, leases held,
    outcomes and attempts in the last minute) and `customer_moved_in`."""
    resume = _resume_from(last_event_id, last_event_id_query)
    async with resources.sessionmaker() as session:
        found = await session.scalar(
            select(Assignment.id).where(
                Assignment.id == assignment_id, Assignment.tenant_id == supervisor.tenant_id
            )
        )
    if found is None:
        raise NotFound(f"assignment {assignment_id} not found")
    redis = resources.streams.redis

    async def touch() -> None:
        await streams.watch(redis, assignment_id, ttl_ms=WATCHED_TTL_MS)

    return await _open(resources, streams.assignment_stream(assignment_id), resume, touch=touch)
