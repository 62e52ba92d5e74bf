"""/v1/webhooks: the tenant's signed webhooks (rule 37, decision 037, docs/webhooks.md).

Administrators name endpoints and the event types each receives; the worker delivers, retries
and dead-letters; the delivery log and the replays are here.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from services.api.deps import Admin, Res
from services.api.errors import refuses
from services.api.fields import IdPath
from services.api.pagination import IdKey, Page, PageRequest, by_id, paging
from services.api.webhooks import service
from services.api.webhooks.schemas import (
    DeliveryOut,
    EndpointChange,
    EndpointCreate,
    EndpointCreated,
    EndpointOut,
    Replayed,
)
from shared.models import DeliveryStatus

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

EndpointPages = Annotated[PageRequest[IdKey], Depends(paging(service.ENDPOINTS))]
DeliveryPages = Annotated[PageRequest[IdKey], Depends(paging(service.DELIVERIES))]
_URL_REFUSED = refuses(
    "a URL that is not https or names a loopback, private or reserved address (decision 037)"
)


@router.post(
    "/endpoints",
    responses=_URL_REFUSED,
    summary="Create a webhook endpoint",
    status_code=status.HTTP_201_CREATED,
)
async def create_endpoint(
    body: EndpointCreate, principal: Admin, resources: Res
) -> EndpointCreated:
    """A new endpoint. The answer is the only place its signing secret is shown."""
    allow = resources.settings.webhook_allow_private_targets
    async with resources.session() as session:
        endpoint = await service.create(session, principal.tenant_id, body, allow_private=allow)
    resources.webhooks.forget(principal.tenant_id)
    return EndpointCreated(
        **EndpointOut.model_validate(endpoint).model_dump(), secret=endpoint.secret
    )


@router.get("/endpoints", summary="List webhook endpoints")
async def list_endpoints(
    principal: Admin, resources: Res, page: EndpointPages
) -> Page[EndpointOut]:
    """The tenant's endpoints in the order they were created, a page at a time."""
    async with resources.session() as session:
        rows = await service.list_endpoints(session, principal.tenant_id, page=page)
        return page.answer(Page[EndpointOut], rows, key=by_id, item=EndpointOut.model_validate)


@router.get("/endpoints/{endpoint_id}", summary="Get a webhook endpoint")
async def get_endpoint(endpoint_id: IdPath, principal: Admin, resources: Res) -> EndpointOut:
    """One endpoint of the tenant (its secret is not shown again)."""
    async with resources.session() as session:
        endpoint = await service.get(session, principal.tenant_id, endpoint_id)
        return EndpointOut.model_validate(endpoint)


@router.patch(
    "/endpoints/{endpoint_id}", responses=_URL_REFUSED, summary="Change a webhook endpoint"
)
async def change_endpoint(
    endpoint_id: IdPath, body: EndpointChange, principal: Admin, resources: Res
) -> EndpointOut:
    """Change its URL, types or description, or disable it (`enabled: false`): a disabled
    endpoint gets no new deliveries, and those waiting are sent when it is enabled again."""
    allow = resources.settings.webhook_allow_private_targets
    async with resources.session() as session:
        endpoint = await service.change(
            session, principal.tenant_id, endpoint_id, body, allow_private=allow
        )
    resources.webhooks.forget(principal.tenant_id)
    return EndpointOut.model_validate(endpoint)


@router.delete("/endpoints/{endpoint_id}", summary="Delete a webhook endpoint")
async def delete_endpoint(endpoint_id: IdPath, principal: Admin, resources: Res) -> EndpointOut:
    """Delete the endpoint, its delivery log and its dead letters; answers what was deleted."""
    async with resources.session() as session:
        endpoint = await service.remove(session, principal.tenant_id, endpoint_id)
    resources.webhooks.forget(principal.tenant_id)
    return EndpointOut.model_validate(endpoint)


@router.get("/endpoints/{endpoint_id}/deliveries", summary="List an endpoint's deliveries")
async def list_deliveries(
    endpoint_id: IdPath,
    principal: Admin,
    resources: Res,
    page: DeliveryPages,
    status: Annotated[
        DeliveryStatus | None,
        Query(description="Only deliveries in this state: `dead` is the dead-letter list."),
    ] = None,
) -> Page[DeliveryOut]:
    """The endpoint's delivery log, newest first: each message and how its last try went."""
    async with resources.session() as session:
        rows = await service.deliveries(
            session, principal.tenant_id, endpoint_id, status=status, page=page
        )
        return page.answer(Page[DeliveryOut], rows, key=by_id, item=DeliveryOut.model_validate)


@router.post("/deliveries/{delivery_id}/replay", summary="Replay a webhook delivery")
async def replay_delivery(delivery_id: IdPath, principal: Admin, resources: Res) -> DeliveryOut:
    """Send a delivered or dead message again (same `webhook-id`), on a fresh retry schedule."""
    async with resources.session() as session:
        delivery = await service.replay(session, principal.tenant_id, delivery_id)
        return DeliveryOut.model_validate(delivery)


@router.post("/endpoints/{endpoint_id}/replay-dead", summary="Replay an endpoint's dead letters")
async def replay_dead(endpoint_id: IdPath, principal: Admin, resources: Res) -> Replayed:
    """Send every dead letter of the endpoint again, oldest first."""
    async with resources.session() as session:
        count = await service.replay_dead(session, principal.tenant_id, endpoint_id)
    return Replayed(replayed=count)
