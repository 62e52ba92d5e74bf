"""The tenant's webhook endpoints and their deliveries (decision 037)."""

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.pagination import IdKey, Keyset, PageRequest
from services.api.webhooks.schemas import EndpointChange, EndpointCreate
from shared.errors import NotFound, Unprocessable
from shared.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from shared.webhooks.signing import new_secret
from shared.webhooks.targets import TargetRefused, checked_url

ENDPOINTS: Keyset[IdKey] = Keyset("webhook-endpoints", IdKey)
DELIVERIES: Keyset[IdKey] = Keyset("webhook-deliveries", IdKey)


def _url(url: str, *, allow_private: bool) -> str:
    try:
        return checked_url(url, allow_private=allow_private)
    except TargetRefused as exc:
        message = f"url refused: {exc}"
        raise Unprocessable(
            message,
            code="webhook_url_refused",
            errors=[{"loc": ["body", "url"], "msg": str(exc), "type": "webhook_url_refused"}],
        ) from None


def _types(types: Sequence[str]) -> list[str]:
    return sorted(set(types))


async def create(
    session: AsyncSession, tenant_id: int, data: EndpointCreate, *, allow_private: bool
) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(
        tenant_id=tenant_id,
        url=_url(data.url, allow_private=allow_private),
        description=data.description,
        event_types=_types(data.event_types),
        secret=new_secret(),
        enabled=data.enabled,
    )
    session.add(endpoint)
    await session.flush()
    return endpoint


async def list_endpoints(
    session: AsyncSession, tenant_id: int, *, page: PageRequest[IdKey]
) -> Sequence[WebhookEndpoint]:
    query = select(WebhookEndpoint).where(WebhookEndpoint.tenant_id == tenant_id)
    return (await session.scalars(page.window(query, WebhookEndpoint.id))).all()


async def get(session: AsyncSession, tenant_id: int, endpoint_id: int) -> WebhookEndpoint:
    """The tenant's endpoint; another tenant's answers 404 as a missing one (rule 1)."""
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.tenant_id != tenant_id:
        raise NotFound(f"webhook endpoint {endpoint_id} not found")
    return endpoint


async def change(
    session: AsyncSession,
    tenant_id: int,
    endpoint_id: int,
    data: EndpointChange,
    *,
    allow_private: bool,
) -> WebhookEndpoint:
    endpoint = await get(session, tenant_id, endpoint_id)
    sent = data.model_fields_set
    if "url" in sent and data.url is not None:
        endpoint.url = _url(data.url, allow_private=allow_private)
    if "event_types" in sent and data.event_types is not None:
        endpoint.event_types = _types(data.event_types)
    if "description" in sent and data.description is not None:
        endpoint.description = data.description
    if "enabled" in sent and data.enabled is not None:
        endpoint.enabled = data.enabled
    endpoint.updated_at = datetime.now(UTC)
    await session.flush()
    return endpoint


async def remove(session: AsyncSession, tenant_id: int, endpoint_id: int) -> WebhookEndpoint:
    """The endpoint and its deliveries (its log and its dead letters go with it)."""
    endpoint = await get(session, tenant_id, endpoint_id)
    await session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    await session.delete(endpoint)
    await session.flush()
    return endpoint


async def deliveries(
    session: AsyncSession,
    tenant_id: int,
    endpoint_id: int,
    *,
    status: DeliveryStatus | None,
    page: PageRequest[IdKey],
) -> Sequence[WebhookDelivery]:
    """The endpoint's delivery log, newest first; with `status`, only those (the dead-letter
    list is `status=dead`)."""
    await get(session, tenant_id, endpoint_id)
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status.value)
    return (await session.scalars(page.window(query, WebhookDelivery.id, descending=True))).all()


_AGAIN = {
    "status": DeliveryStatus.pending.value,
    "attempts": 0,
    "locked_until": None,
    "replays": WebhookDelivery.replays + 1,
}


async def replay(session: AsyncSession, tenant_id: int, delivery_id: int) -> WebhookDelivery:
    """Send the delivery again, with the same `webhook-id`, on a fresh retry schedule. A
    delivery on its way already (pending) is left as it is."""
    delivery = await session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.tenant_id != tenant_id:
        raise NotFound(f"webhook delivery {delivery_id} not found")
    if delivery.status != DeliveryStatus.pending.value:
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id)
            .values(_AGAIN | {"next_attempt_at": datetime.now(UTC)})
        )
        await session.refresh(delivery)
    return delivery


async def replay_dead(session: AsyncSession, tenant_id: int, endpoint_id: int) -> int:
    """Every dead letter of the endpoint, sent again in the order they were written."""
    await get(session, tenant_id, endpoint_id)
    found = await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.status == DeliveryStatus.dead.value,
        )
        .values(_AGAIN | {"next_attempt_at": datetime.now(UTC)})
        .returning(WebhookDelivery.id)
    )
    return len(found.all())
