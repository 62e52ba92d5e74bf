"""Telling people of pipeline work in their live stream (`GET /v1/me/events`).

Sent after the commit, so a told user finds the request; nobody is told of their own doing.
The stream is in Redis, so whichever API process holds the user's open stream reads it. A
lost entry (Redis away) costs the live note only: the request is in the manager's My Work.
"""

import logging

from redis.exceptions import RedisError

from services.api.resources import Resources
from services.queue.streams import EventType, tell_user
from shared.models import PipelineRequest, PipelineTask

log = logging.getLogger(__name__)


async def tell(
    res: Resources, user_id: int, event: EventType, *, by_user_id: int, **data: int | str | None
) -> None:
    if user_id == by_user_id:
        return
    try:
        await tell_user(res.redis, user_id, event, data, window=res.settings.stream_window)
    except RedisError:
        # The write is committed; failing the answer now would invite a second request.
        log.warning("pipeline.notify_failed event=%s user_id=%s", event.value, user_id)


async def tell_manager(
    res: Resources, request: PipelineRequest, acting_manager_id: int, *, by_user_id: int
) -> None:
    """A request is theirs to handle now: new, or handed to them."""
    await tell(
        res,
        acting_manager_id,
        EventType.request_assigned,
        by_user_id=by_user_id,
        request_id=request.id,
        kind=request.kind,
        manager_id=request.manager_id,
    )


async def tell_executor(res: Resources, task: PipelineTask, *, by_user_id: int) -> None:
    """A task is theirs to do now: new, or passed to them."""
    await tell(
        res,
        task.executor_id,
        EventType.task_assigned,
        by_user_id=by_user_id,
        task_id=task.id,
        request_id=task.request_id,
    )
