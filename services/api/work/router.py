"""The agent's endpoints: select, heartbeat, release here; next, attempts and outcomes from
the one table of the hot routes (routes.py), shared with the plain ASGI hot path."""

from inspect import Parameter, Signature
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from pydantic import BaseModel

from services.api.deps import Agent, Extended, Res
from services.api.errors import refuses
from services.api.fields import IdPath
from services.api.live.disconnect import unless_disconnected
from services.api.work import leases
from services.api.work.routes import HOT_ROUTES, WorkRoute
from services.api.work.schemas import CardOut, LeaseBody, LeaseOut, ReleaseResult

router = APIRouter(tags=["work"])


# Logged for a long poll whose client went away before the answer (nobody receives it).
CLIENT_CLOSED_REQUEST = 499
_NAMED = Parameter.KEYWORD_ONLY


def as_json(answer: BaseModel) -> Response:
    """The answer as JSON, serialised once.

    Returning the model would make FastAPI validate it against `response_model` again before
    serialising it: on /next and outcomes that doubled the cost of the answer. The models
    are built by our own code from typed values, so the schema still holds; `response_model`
    keeps documenting it.
    """
    return Response(answer.model_dump_json(), media_type="application/json")


def _declare(route: WorkRoute) -> None:
    """A route of the hot table as a FastAPI route: the id in its path, its request body,
    the caller; a request that waits is cancelled when its client leaves."""

    async def endpoint(**given: Any) -> Response:
        asked = given["body"] if given["body"] is not None else route.request()
        work = route.run(given["resources"], given["agent"], given[route.id_name], asked)
        if route.waits is None or not route.waits(asked):
            return as_json(await work)
        answer = await unless_disconnected(given["request"], work)
        return Response(status_code=CLIENT_CLOSED_REQUEST) if answer is None else as_json(answer)

    body = (
        Parameter("body", _NAMED, annotation=Annotated[route.request | None, Body()], default=None)
        if route.body_optional
        else Parameter("body", _NAMED, annotation=route.request)
    )
    # FastAPI reads what to inject from the signature.
    endpoint.__signature__ = Signature(  # type: ignore[attr-defined]
        [
            Parameter(route.id_name, _NAMED, annotation=IdPath),
            Parameter("request", _NAMED, annotation=Request),
            Parameter("resources", _NAMED, annotation=Res),
            Parameter("agent", _NAMED, annotation=Agent),
            body,
        ],
        return_annotation=Response,
    )
    endpoint.__doc__ = route.doc
    router.add_api_route(
        route.path,
        endpoint,
        methods=["POST"],
        response_model=route.response_model,
        name=route.name,
        summary=route.summary,
        responses=refuses(route.refuses) if route.refuses else None,
    )


# First: FastAPI matches routes in order, and these are the ones agents call all day.
for _route in HOT_ROUTES:
    _declare(_route)


@router.post("/customers/{customer_id}/select", summary="Select a customer", response_model=CardOut)
async def select_customer(customer_id: IdPath, resources: Res, agent: Agent) -> CardOut:
    """Take this customer as your current one (refused in predictive mode or when held)."""
    return await leases.select_customer(resources, agent, customer_id)


@router.post("/customers/{customer_id}/heartbeat", summary="Renew a lease", response_model=LeaseOut)
async def heartbeat(customer_id: IdPath, body: LeaseBody, resources: Res, agent: Agent) -> LeaseOut:
    """Renew the lease on your current customer for the assignment's lease time."""
    return await leases.heartbeat(resources, agent, customer_id, lease_id=body.lease_id)


@router.post(
    "/customers/{customer_id}/release", summary="Release a customer", response_model=ReleaseResult
)
async def release(
    customer_id: IdPath, body: LeaseBody, resources: Res, agent: Agent
) -> ReleaseResult:
    """Give the customer back, exactly as it was."""
    return await leases.release(resources, agent, customer_id, lease_id=body.lease_id)


@router.post(
    "/customers/{customer_id}/force-release",
    summary="Force-release a customer",
    response_model=ReleaseResult,
)
async def force_release(customer_id: IdPath, resources: Res, user: Extended) -> ReleaseResult:
    """Extended handling: end someone else's lease (rule 17)."""
    return await leases.release(resources, user, customer_id, lease_id="", force=True)
