"""/v1/pipeline: tasks (rule 32) and delegations (rule 31)."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from services.api.deps import Res
from services.api.errors import refuses
from services.api.fields import DbId, IdPath
from services.api.pagination import Page, by_id
from services.api.pipeline import delegations, tasks
from services.api.pipeline.access import Lang, Manager, Now, Reader, administers
from services.api.pipeline.notify import tell_executor
from services.api.pipeline.pages import DelegationPages, TaskPages
from services.api.pipeline.requests import found_request, stand_ins_at
from services.api.pipeline.schemas import (
    DelegationIn,
    DelegationOut,
    TaskChange,
    TaskIn,
    TaskOut,
)
from services.api.pipeline.views import view_of
from shared.models import PipelineDelegation, PipelineTask
from shared.pipeline.codes import TaskStatus
from shared.pipeline.delegation import acting_for
from shared.pipeline.store import PipelineStore

router = APIRouter()


@router.post(
    "/requests/{request_id}/tasks",
    responses=refuses(
        "an executor who is no pipeline colleague, or a followed task of another request"
    ),
    status_code=status.HTTP_201_CREATED,
)
async def add_task(
    request_id: IdPath, body: TaskIn, resources: Res, manager: Manager, language: Lang, now: Now
) -> TaskOut:
    """A task for a colleague (or yourself); with `follows_task_id`, a follow-up of a task,
    which that task's executor may add too. The executor is told in their event stream."""
    async with resources.session() as session:
        store = PipelineStore(session, manager.tenant_id)
        request = await found_request(store, request_id)
        stand_ins = await stand_ins_at(store, now)
        task = await tasks.add_task(store, manager, request, body, stand_ins)
        view = await view_of(store, language=language, now=now, tasks=[task], stand_ins=stand_ins)
    await tell_executor(resources, task, by_user_id=manager.user_id)
    return view.task(task)


@router.get("/tasks")
async def list_tasks(
    resources: Res,
    reader: Reader,
    language: Lang,
    now: Now,
    page: TaskPages,
    mine: Annotated[bool, Query(description="Show only my tasks (I execute them).")] = False,
    request_id: DbId | None = None,
    status_in: Annotated[list[TaskStatus] | None, Query(alias="status")] = None,
    include_finished: Annotated[
        bool, Query(description="Done and closed tasks too (hidden by default).")
    ] = False,
    overdue: Annotated[
        bool, Query(description="Only unfinished tasks past their due time.")
    ] = False,
    handled: Annotated[
        bool, Query(description="Only tasks of requests you handle now (yours, delegated).")
    ] = False,
) -> Page[TaskOut]:
    """Tasks, newest first."""
    async with resources.sessionmaker() as session:
        store = PipelineStore(session, reader.tenant_id)
        stand_ins = await stand_ins_at(store, now)
        conditions = tasks.list_conditions(
            executor_id=reader.user_id if mine else None,
            request_id=request_id,
            statuses=status_in or [],
            include_finished=include_finished,
            overdue_at=now if overdue else None,
            handled_by=acting_for(reader.user_id, stand_ins) if handled else None,
        )
        query = page.window(store.tasks_where(*conditions), PipelineTask.id, descending=True)
        rows = (await session.scalars(query)).all()
        view = await view_of(store, language=language, now=now, tasks=rows, stand_ins=stand_ins)
        return page.answer(Page[TaskOut], rows, key=by_id, item=view.task)


@router.patch("/tasks/{task_id}", responses=refuses("an executor who is no pipeline colleague"))
async def change_task(
    task_id: IdPath, body: TaskChange, resources: Res, manager: Manager, language: Lang, now: Now
) -> TaskOut:
    """Its status (open, in progress, done, closed), executor, due time, title, notes."""
    async with resources.session() as session:
        store = PipelineStore(session, manager.tenant_id)
        task = await tasks.found_task(store, task_id, for_update=True)
        request = await found_request(store, task.request_id)
        stand_ins = await stand_ins_at(store, now)
        changes = await tasks.change_task(store, manager, task, request, body, stand_ins)
        view = await view_of(store, language=language, now=now, tasks=[task], stand_ins=stand_ins)
    if "executor_id" in changes:
        await tell_executor(resources, task, by_user_id=manager.user_id)
    return view.task(task)


@router.post(
    "/delegations",
    responses=refuses(
        "a user who is no pipeline colleague, a delegation to oneself, an end that is not "
        "after the start and in the future"
    ),
    status_code=status.HTTP_201_CREATED,
)
async def delegate(body: DelegationIn, resources: Res, manager: Manager, now: Now) -> DelegationOut:
    """Your requests (a team lead: anyone's) go to a colleague from `starts_at` until
    `ends_at`, new ones included, and come back by themselves."""
    async with resources.session() as session:
        store = PipelineStore(session, manager.tenant_id)
        delegation = await delegations.delegate(store, manager, body, now=now)
        users = await store.users({delegation.from_user_id, delegation.to_user_id, manager.user_id})
        return delegations.delegation_out(delegation, users, now=now)


@router.get("/delegations")
async def list_delegations(
    resources: Res,
    manager: Manager,
    now: Now,
    page: DelegationPages,
    everyone: Annotated[
        bool, Query(description="Everyone's, not only yours (team leads).")
    ] = False,
) -> Page[DelegationOut]:
    """Current and coming delegations, of or to you (or everyone's), in the order they
    start."""
    async with resources.sessionmaker() as session:
        store = PipelineStore(session, manager.tenant_id)
        whose = None if everyone and administers(manager) else manager.user_id
        columns = (PipelineDelegation.starts_at, PipelineDelegation.id)
        query = page.window(store.delegations(now=now, user_id=whose), *columns)
        found = (await session.scalars(query)).all()
        users = await store.users(
            {i for d in found for i in (d.from_user_id, d.to_user_id, d.created_by_id)}
        )
        return page.answer(
            Page[DelegationOut],
            found,
            key=lambda d: (d.starts_at, d.id),
            item=lambda d: delegations.delegation_out(d, users, now=now),
        )


@router.delete("/delegations/{delegation_id}")
async def end_delegation(
    delegation_id: IdPath, resources: Res, manager: Manager, now: Now
) -> DelegationOut:
    """Back early: the delegation ends now (a coming one is dropped)."""
    async with resources.session() as session:
        store = PipelineStore(session, manager.tenant_id)
        delegation = await delegations.cancel(store, manager, delegation_id, now=now)
        users = await store.users(
            {delegation.from_user_id, delegation.to_user_id, delegation.created_by_id}
        )
        return delegations.delegation_out(delegation, users, now=now)
