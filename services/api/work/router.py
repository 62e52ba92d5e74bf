"""The agent's endpoints: next customer, select, heartbeat, release, attempts, outcomes."""

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response
from pydantic import BaseModel

from services.api.deps import Agent, Extended, Res
from services.api.fields import IdPath
from services.api.live.disconnect import unless_disconnected
from services.api.work import leases, writes
from services.api.work.next_customer import next_customer as next_or_empty
from services.api.work.schemas import (
    AttemptRequest,
    CardOut,
    EmptyOut,
    LeaseBody,
    LeaseOut,
    NextRequest,
    OutcomeRequest,
    ReleaseResult,
    WriteResult,
)

router = APIRouter(tags=["work"])


# Logged for a long poll whose client went away before the answer (nobody receives it).
CLIENT_CLOSED_REQUEST = 499


@router.post("/assignments/{assignment_id}/next", response_model=CardOut | EmptyOut)
async def next_customer(
    assignment_id: IdPath,
    request: Request,
    resources: Res,
    agent: Agent,
    body: Annotated[NextRequest | None, Body()] = None,
) -> Response:
    """The next right customer, leased to you; or why there is none and when there will be.

    With `wait_seconds`, an empty answer waits up to that long and returns the moment a
    customer becomes eligible (long poll).
    """
    segment_id = body.segment_id if body else None
    wait_seconds = body.wait_seconds if body else 0
    work = next_or_empty(
        resources, agent, assignment_id, segment_id=segment_id, wait_seconds=wait_seconds
    )
    if not wait_seconds:
        return as_json(await work)
    answer = await unless_disconnected(request, work)
    return Response(status_code=CLIENT_CLOSED_REQUEST) if answer is None else as_json(answer)


@router.post("/customers/{customer_id}/select", response_model=CardOut)
async def select_customer(customer_id: IdPath, resources: Res, agent: Agent) -> CardOut:
    """Take this customer as your current one (refused in predictive mode or when held)."""
    return await leases.select_customer(resources, agent, customer_id)


@router.post("/customers/{customer_id}/heartbeat", response_model=LeaseOut)
async def heartbeat(customer_id: IdPath, body: LeaseBody, resources: Res, agent: Agent) -> LeaseOut:
    return await leases.heartbeat(resources, agent, customer_id, lease_id=body.lease_id)


@router.post("/customers/{customer_id}/release", response_model=ReleaseResult)
async def release(
    customer_id: IdPath, body: LeaseBody, resources: Res, agent: Agent
) -> ReleaseResult:
    """Give the customer back, exactly as it was."""
    return await leases.release(resources, agent, customer_id, lease_id=body.lease_id)


@router.post("/customers/{customer_id}/force-release", response_model=ReleaseResult)
async def force_release(customer_id: IdPath, resources: Res, user: Extended) -> ReleaseResult:
    """Extended handling: end someone else's lease (rule 17)."""
    return await leases.release(resources, user, customer_id, lease_id="", force=True)


@router.post("/customers/{customer_id}/attempts", response_model=WriteResult)
async def register_attempt(
    customer_id: IdPath, body: AttemptRequest, resources: Res, agent: Agent
) -> Response:
    """No answer, or call back later at a time (only the holder)."""
    return as_json(await writes.register_attempt(resources, agent, customer_id, body))


@router.post("/customers/{customer_id}/outcomes", response_model=WriteResult)
async def register_outcome(
    customer_id: IdPath, body: OutcomeRequest, resources: Res, agent: Agent
) -> Response:
    """An outcome the customer flow allows from the current state (only the holder)."""
    return as_json(await writes.register_outcome(resources, agent, customer_id, body))


def as_json(answer: BaseModel) -> Response:
    """The answer as JSON, serialised once.

    Returning the model would make FastAPI validate it against `response_model` again before
    serialising it: on /next and outcomes that doubled the cost of the answer. The models
    are built by our own code from typed values, so the schema still holds; `response_model`
    keeps documenting it.
    """
    return Response(answer.model_dump_json(), media_type="application/json")
