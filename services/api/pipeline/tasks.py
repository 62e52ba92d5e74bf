"""Tasks on requests (rule 32): added by the request's manager, or as a follow-up by the
executor of a task; worked by their executor; listed with "only my tasks", finished ones
hidden unless asked for, overdue ones for the managers (seed 002)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select

from services.api.auth.cache import Principal
from services.api.errors import Forbidden, NotFound, Unprocessable
from services.api.pipeline.catalogue import manager_candidate
from services.api.pipeline.requests import may_change
from services.api.pipeline.schemas import TaskChange, TaskIn
from shared.infra.timeutil import iso_or_none
from shared.models import PipelineRequest, PipelineTask
from shared.pipeline.codes import EventKind, TaskStatus
from shared.pipeline.statuses import FINISHED_TASKS, task_status_after
from shared.pipeline.store import PipelineStore


async def found_task(
    store: PipelineStore, task_id: int, *, for_update: bool = False
) -> PipelineTask:
    task = await store.task(task_id, for_update=for_update)
    if task is None:
        raise NotFound(f"task {task_id} not found")
    return task


async def add_task(
    store: PipelineStore,
    principal: Principal,
    request: PipelineRequest,
    body: TaskIn,
    stand_ins: dict[int, int],
) -> PipelineTask:
    follows = None
    if body.follows_task_id is not None:
        follows = await found_task(store, body.follows_task_id)
        if follows.request_id != request.id:
            raise Unprocessable(
                f"task {follows.id} belongs to another request", code="task_of_another_request"
            )
    own_follow_up = follows is not None and follows.executor_id == principal.user_id
    if not (own_follow_up or may_change(principal, request, stand_ins)):
        raise Forbidden(
            f"tasks on request {request.id} are added by its manager, or as a follow-up by "
            "the executor of one of its tasks",
            code="not_your_request",
        )
    executor = await manager_candidate(store, body.executor_id or principal.user_id)
    task = PipelineTask(
        tenant_id=store.tenant_id,
        request_id=request.id,
        title=body.title,
        executor_id=executor.id,
        status=TaskStatus.open.value,
        due_at=body.due_at,
        notes=body.notes,
        created_by_id=principal.user_id,
        follows_task_id=follows.id if follows is not None else None,
    )
    store.session.add(task)
    await store.session.flush()
    await store.record(
        request.id,
        user_id=principal.user_id,
        kind=EventKind.task_added,
        changes={
            "task_id": task.id,
            "executor_id": executor.id,
            "follows_task_id": task.follows_task_id,
        },
    )
    return task


async def change_task(
    store: PipelineStore,
    principal: Principal,
    task: PipelineTask,
    request: PipelineRequest,
    body: TaskChange,
    stand_ins: dict[int, int],
) -> dict[str, Any]:
    """The executor works their task; the request's manager (or a team lead) may change any
    of its tasks. Returns what changed (old and new), also written to the history."""
    if principal.user_id != task.executor_id and not may_change(principal, request, stand_ins):
        raise Forbidden(
            f"task {task.id} is someone else's: its executor or the request's manager changes it",
            code="not_your_task",
        )
    changes: dict[str, Any] = {}
    if body.status is not None and body.status.value != task.status:
        new = task_status_after(task.status, body.status)
        changes["status"] = {"old": task.status, "new": new.value}
        task.status = new.value
    if body.executor_id is not None and body.executor_id != task.executor_id:
        executor = await manager_candidate(store, body.executor_id)
        changes["executor_id"] = {"old": task.executor_id, "new": executor.id}
        task.executor_id = executor.id
    if "due_at" in body.model_fields_set and body.due_at != task.due_at:
        changes["due_at"] = {"old": iso_or_none(task.due_at), "new": iso_or_none(body.due_at)}
        task.due_at = body.due_at
    for name in ("title", "notes"):
        value = getattr(body, name)
        if value is not None and value != getattr(task, name):
            changes[name] = {"old": getattr(task, name), "new": value}
            setattr(task, name, value)
    if changes:
        await store.record(
            request.id,
            user_id=principal.user_id,
            kind=EventKind.task_changed,
            changes={"task_id": task.id, **changes},
        )
    return changes


def list_conditions(
    *,
    executor_id: int | None = None,
    request_id: int | None = None,
    statuses: Sequence[TaskStatus] = (),
    include_finished: bool = False,
    overdue_at: datetime | None = None,
    handled_by: set[int] | None = None,
) -> list[ColumnElement[bool]]:
    """The task list's filters. Done and closed tasks are left out unless `include_finished`
    or statuses that name them; `overdue_at` keeps those due before it and unfinished;
    `handled_by` keeps the tasks of requests these managers own."""
    conditions: list[ColumnElement[bool]] = []
    if executor_id is not None:
        conditions.append(PipelineTask.executor_id == executor_id)
    if request_id is not None:
        conditions.append(PipelineTask.request_id == request_id)
    if statuses:
        conditions.append(PipelineTask.status.in_([s.value for s in statuses]))
    if overdue_at is not None or not (include_finished or statuses):
        conditions.append(PipelineTask.status.not_in([s.value for s in FINISHED_TASKS]))
    if overdue_at is not None:
        conditions.append(PipelineTask.due_at < overdue_at)
    if handled_by is not None:
        conditions.append(
            PipelineTask.request_id.in_(
                select(PipelineRequest.id).where(PipelineRequest.manager_id.in_(sorted(handled_by)))
            )
        )
    return conditions
