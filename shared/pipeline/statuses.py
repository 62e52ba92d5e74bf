"""Which status may follow which, for requests and tasks (pure rules).

A request moves forward from new to an offer and to won or lost; it may go back from an offer
to in progress (the offer was declined, work goes on); every status may be closed (withdrawn,
a duplicate); closed is final. Tasks may be reopened until they are closed.
"""

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from shared.errors import Conflict
from shared.pipeline.codes import RequestStatus, TaskStatus

_R = RequestStatus
REQUEST_MOVES: dict[RequestStatus, frozenset[RequestStatus]] = {
    _R.new: frozenset({_R.in_progress, _R.offer_made, _R.lost, _R.closed}),
    _R.in_progress: frozenset({_R.offer_made, _R.won, _R.lost, _R.closed}),
    _R.offer_made: frozenset({_R.in_progress, _R.won, _R.lost, _R.closed}),
    _R.won: frozenset({_R.closed}),
    _R.lost: frozenset({_R.closed}),
    _R.closed: frozenset(),
}
# Requests still being worked on: handed over with their manager, listed as open.
OPEN_REQUESTS = frozenset({_R.new, _R.in_progress, _R.offer_made})

_T = TaskStatus
TASK_MOVES: dict[TaskStatus, frozenset[TaskStatus]] = {
    _T.open: frozenset({_T.in_progress, _T.done, _T.closed}),
    _T.in_progress: frozenset({_T.open, _T.done, _T.closed}),
    _T.done: frozenset({_T.in_progress, _T.closed}),
    _T.closed: frozenset(),
}
# Hidden from task lists unless asked for (seed 002).
FINISHED_TASKS = frozenset({_T.done, _T.closed})


S = TypeVar("S", bound=StrEnum)


def _after(what: str, moves: Mapping[S, frozenset[S]], now: S, wanted: S) -> S:
    if wanted != now and wanted not in moves[now]:
        raise Conflict(
            f"a {what} that is {now.value} cannot become {wanted.value}",
            code="status_not_allowed",
            allowed=sorted(moves[now]),
        )
    return wanted


def request_status_after(current: str, wanted: RequestStatus) -> RequestStatus:
    """`wanted` if a request at `current` may move there; 409 otherwise."""
    return _after("request", REQUEST_MOVES, RequestStatus(current), wanted)


def task_status_after(current: str, wanted: TaskStatus) -> TaskStatus:
    """`wanted` if a task at `current` may move there; 409 otherwise."""
    return _after("task", TASK_MOVES, TaskStatus(current), wanted)


def is_overdue(status: str, due_at: datetime | None, now: datetime) -> bool:
    """A task past its due time and not finished."""
    return due_at is not None and due_at < now and TaskStatus(status) not in FINISHED_TASKS
