from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, IdMixin, TimestampMixin, utcnow


class DeliveryStatus(StrEnum):
    pending = "pending"  # waiting for its first try or its next retry
    delivered = "delivered"  # the receiver answered 2xx
    dead = "dead"  # every retry failed: the dead-letter list, replayable


class WebhookEndpoint(IdMixin, TimestampMixin, Base):
    """A tenant's receiver of signed webhooks (decision 037).

    The secret is kept as it is: signing needs it (HMAC), so a hash would not do. It is shown
    once, when the endpoint is created.
    """

    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_tenant_page", "tenant_id", "id"),)

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"))
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(IdMixin, Base):
    """One message to one endpoint: the outbox row, written in the transaction of the change
    it reports, then sent and retried by the worker; its last try is the delivery log."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The worker's scan for due deliveries.
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        # A delivery waits for the earlier unfinished ones of its endpoint and customer.
        Index("ix_webhook_deliveries_chain", "endpoint_id", "order_key", "id"),
        # The delivery log, per endpoint, newest first (decision 026).
        Index("ix_webhook_deliveries_endpoint_page", "endpoint_id", "id"),
    )

    tenant_id: Mapped[int] = mapped_column(BigInteger)
    endpoint_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    # The Standard Webhooks `webhook-id`: the same on every try and replay of the message.
    message_id: Mapped[str] = mapped_column(String(40))
    event_type: Mapped[str] = mapped_column(String(40))
    # Deliveries with the same key reach an endpoint in the order they were written
    # ("customer:<id>", "agent:<id>"); None: no order.
    order_key: Mapped[str | None] = mapped_column(String(60), default=None)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default=DeliveryStatus.pending.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A worker sending it holds it until then; another takes it over after (a killed worker).
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    last_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    last_status: Mapped[int | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(String(200), default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    replays: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
