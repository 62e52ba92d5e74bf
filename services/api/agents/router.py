"""Agents' states: an agent's own (rule 35), and the list supervisors watch."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.api.access import require_any
from services.api.agents import service, store
from services.api.agents.schemas import AgentStateOut, StateChange
from services.api.auth.cache import Principal
from services.api.deps import Agent, Res
from services.api.errors import refuses
from services.api.fields import DbId
from services.api.pagination import IdKey, Page, PageRequest, paging
from shared.models import AgentState, AgentStateRow, Permission

router = APIRouter(tags=["agents"])

Supervisor = Annotated[
    Principal,
    require_any(Permission.reporting, Permission.assignment_setup, Permission.extended_handling),
]
StatePages = Annotated[PageRequest[IdKey], Depends(paging(store.AGENT_STATES))]


@router.get("/me/state", summary="Your state", response_model=AgentStateOut)
async def my_state(resources: Res, agent: Agent) -> AgentStateOut:
    """Signed off, ready, reserved, on call, wrap-up or paused, and the assignment worked."""
    return await service.own(resources, agent)


@router.put(
    "/me/state",
    summary="Change your state",
    response_model=AgentStateOut,
    responses=refuses(
        "sign-in without an assignment, or a pause without a reason (409: a change the "
        "state does not allow, such as signing off on a call)"
    ),
)
async def change_my_state(body: StateChange, resources: Res, agent: Agent) -> AgentStateOut:
    """Sign in (ready or paused, naming the assignment), pause with a reason, resume, end the
    wrap-up, hang up (on call -> wrap-up), sign off. Reserved and on call are the dialer's."""
    return await service.set_own(resources, agent, body)


@router.get("/agents/states", summary="Agents' states", response_model=Page[AgentStateOut])
async def agent_states(
    resources: Res,
    supervisor: Supervisor,
    page: StatePages,
    assignment_id: Annotated[DbId | None, Query()] = None,
    state: Annotated[AgentState | None, Query()] = None,
) -> Page[AgentStateOut]:
    """Every agent that is not signed off (or was, since it last worked), by user id."""
    async with resources.sessionmaker() as session:
        rows = await store.listed(
            session, supervisor.tenant_id, assignment_id=assignment_id, state=state, page=page
        )
    return page.answer(
        Page[AgentStateOut],
        rows,
        key=_key,
        item=lambda r: service.row_out(r[0], r[0].user_id, r[1]),
    )


def _key(row: tuple[AgentStateRow, str]) -> IdKey:
    return (row[0].user_id,)
