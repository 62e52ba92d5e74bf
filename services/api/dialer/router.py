"""The dialer boundary (rule 36, docs/dialer.md): machine tokens with the dialer permission
reserve customers, report dials, ask how many calls to start, and hand inbound calls over."""

from typing import Annotated

from fastapi import APIRouter, Path

from services.api.agents import service as agent_service
from services.api.agents.schemas import AgentStateOut, DialerStateChange
from services.api.deps import Dialer, Res
from services.api.dialer import inbound, pacing, reservations, results
from services.api.dialer.ids import DIAL_ID_PATTERN
from services.api.dialer.schemas import (
    DialOut,
    DialReport,
    HangupOut,
    InboundCall,
    InboundOut,
    PacingOut,
    ReservationsOut,
    ReserveRequest,
)
from services.api.errors import refuses
from services.api.fields import IdPath

router = APIRouter(prefix="/dialer", tags=["dialer"])

DialIdPath = Annotated[str, Path(max_length=100, pattern=DIAL_ID_PATTERN)]


@router.post(
    "/assignments/{assignment_id}/reservations",
    summary="Reserve customers to dial",
    response_model=ReservationsOut,
)
async def reserve(
    assignment_id: IdPath, body: ReserveRequest, resources: Res, dialer: Dialer
) -> ReservationsOut:
    """Up to `count` customers in rule 10's order (due call-backs, then free customers), each
    leased to this dialer for a short time (setting `dial_reservation_seconds`, 60 s): never
    to another dialer or agent meanwhile. Unreported reservations expire and the customers
    return. 409 in a preview assignment."""
    return await reservations.reserve(resources, dialer, assignment_id, body.count)


@router.post(
    "/dials/{dial_id}/result",
    summary="Report a dial's result",
    response_model=DialOut,
    responses=refuses("answered by no agent of the assignment (agent_not_here)"),
)
async def report(dial_id: DialIdPath, body: DialReport, resources: Res, dialer: Dialer) -> DialOut:
    """answered (bridged to `agent_id`, or to the agent ready longest: the lease moves to the
    agent, whose live stream gets the card), no_answer, busy, machine, failed, invalid_number
    (a system attempt: the retry rules place the customer), abandoned (a call-back due now).
    Once per dial id: the same report again answers as the first (`replayed`), another 409."""
    return await results.report(resources, dialer, dial_id, body)


@router.post("/dials/{dial_id}/hangup", summary="A bridged call ended", response_model=HangupOut)
async def hangup(dial_id: DialIdPath, resources: Res, dialer: Dialer) -> HangupOut:
    """The agent of the call goes to wrap-up (talk time is measured for pacing)."""
    return await results.hangup(resources, dialer, dial_id)


@router.get(
    "/assignments/{assignment_id}/pacing",
    summary="How many calls to start now",
    response_model=PacingOut,
)
async def calls_now(assignment_id: IdPath, resources: Res, dialer: Dialer) -> PacingOut:
    """From the assignment's ready and wrapping-up agents, calls in flight and recent dials
    (answer rate, ring and handle times, abandoned calls against the assignment's cap)."""
    return await pacing.calls_now(resources, dialer, assignment_id)


@router.put(
    "/agents/{user_id}/state",
    summary="Reserve an agent, or give it back",
    response_model=AgentStateOut,
)
async def agent_state(
    user_id: IdPath, body: DialerStateChange, resources: Res, dialer: Dialer
) -> AgentStateOut:
    """ready -> reserved while a call is connected for the agent; reserved -> ready."""
    return await agent_service.set_by_dialer(resources, dialer, user_id, body.state)


@router.post(
    "/inbound",
    summary="An inbound call",
    response_model=InboundOut,
    responses=refuses("a caller number that is not a phone number"),
)
async def inbound_call(body: InboundCall, resources: Res, dialer: Dialer) -> InboundOut:
    """Find the caller (customers called before first, then those of assignments visible to
    the agent), lease the customer to the agent named or to a ready agent working its
    assignment, and show that agent the card. `matched: false` for an unknown number."""
    return await inbound.inbound(resources, dialer, body)
