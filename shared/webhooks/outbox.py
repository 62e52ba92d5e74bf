"""The transactional outbox: a delivery row per subscribed endpoint, written on the caller's
connection, so in the transaction of the change it reports (committed with it or not at all).

`enqueue` is what every producer calls. A tenant without an endpoint for the type costs one
indexed read of its endpoints; the hot path skips even that with `Subscriptions`, a
per-process copy of which types each tenant subscribes to.
"""

import json
import time
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from shared.models import DeliveryStatus, Event, WebhookDelivery, WebhookEndpoint
from shared.webhooks.types import (
    Message,
    WebhookType,
    agent_key,
    body,
    event_columns,
    event_message,
)

Connection = AsyncConnection | AsyncSession

_deliveries = cast(Table, WebhookDelivery.__table__)


async def _endpoints(conn: Connection, tenant_id: int) -> list[tuple[int, list[str]]]:
    rows = await conn.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.event_types).where(
            WebhookEndpoint.tenant_id == tenant_id, WebhookEndpoint.enabled.is_(True)
        )
    )
    return [(endpoint_id, types) for endpoint_id, types in rows]


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def hook_params(type: WebhookType, event: Mapping[str, Any]) -> dict[str, Any]:
    """The `h_*` parameters of the hot path's one-statement write with its deliveries
    (shared/membership/statements.py): the message of `event`, whose id the statement sets."""
    message_id = new_message_id()
    message = event_message(type, event, event_id=0, at=event["created_at"])
    return {
        "h_message_id": message_id,
        "h_type": type.value,
        "h_order_key": message.order_key,
        "h_at": message.at,
        "h_payload": json.dumps(body(message_id, message)),
    }


async def enqueue(conn: Connection, tenant_id: int, *messages: Message) -> int:
    """Write a delivery of each message to each of the tenant's enabled endpoints that
    subscribes to its type, on `conn` (the caller's transaction). Returns how many."""
    if not messages:
        return 0
    endpoints = await _endpoints(conn, tenant_id)
    rows = []
    for message in messages:
        message_id = new_message_id()
        payload = body(message_id, message)
        for endpoint_id, types in endpoints:
            if message.type.value in types:
                rows.append(
                    {
                        "tenant_id": tenant_id,
                        "endpoint_id": endpoint_id,
                        "message_id": message_id,
                        "event_type": message.type.value,
                        "order_key": message.order_key,
                        "payload": payload,
                        "status": DeliveryStatus.pending.value,
                        "attempts": 0,
                        "next_attempt_at": message.at,
                        "replays": 0,
                        "created_at": message.at,
                    }
                )
    if rows:
        await conn.execute(insert(_deliveries), rows)
    return len(rows)


async def enqueue_events(conn: Connection, type: WebhookType, *events: Event) -> int:
    """The webhooks of event rows of one tenant, flushed (they have their ids): moves, dial
    results."""
    if not events:
        return 0
    messages = [
        event_message(type, event_columns(e), event_id=e.id, at=e.created_at) for e in events
    ]
    return await enqueue(conn, events[0].tenant_id, *messages)


async def enqueue_agent_state(
    conn: Connection, tenant_id: int, user_id: int, data: Mapping[str, Any], *, at: datetime
) -> int:
    """The `agent.state_changed` webhook of an agent (its messages kept in order)."""
    message = Message(
        WebhookType.agent_state, {"user_id": user_id} | dict(data), agent_key(user_id), at
    )
    return await enqueue(conn, tenant_id, message)


class Subscriptions:
    """Which types each tenant's enabled endpoints subscribe to, kept `ttl_s` seconds.

    The API process forgets a tenant's entry when it changes its endpoints; other processes
    see the change within `ttl_s` (as assignment settings, decision 004). A stale "yes" costs
    an `enqueue` that writes nothing; a stale "no" (an endpoint created in another process
    moments ago) misses the events of at most `ttl_s`.
    """

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._types: dict[int, tuple[float, frozenset[str]]] = {}

    def cached(self, tenant_id: int, type: WebhookType) -> bool | None:
        """Whether the tenant subscribes to `type`; None when this process does not know."""
        found = self._types.get(tenant_id)
        if found is None or found[0] < time.monotonic():
            return None
        return type.value in found[1]

    async def subscribed(self, engine: AsyncEngine, tenant_id: int, type: WebhookType) -> bool:
        """Whether the tenant subscribes to `type`: a dict read, or a read of its endpoints
        once per `ttl_s`."""
        known = self.cached(tenant_id, type)
        if known is not None:
            return known
        async with engine.connect() as conn:
            endpoints = await _endpoints(conn, tenant_id)
        types = frozenset(t for _, ts in endpoints for t in ts)
        self._types[tenant_id] = (time.monotonic() + self.ttl_s, types)
        return type.value in types

    def forget(self, tenant_id: int) -> None:
        self._types.pop(tenant_id, None)
