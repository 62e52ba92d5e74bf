"""Request and response bodies of /v1/webhooks."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from services.api.fields import Flag, Text
from services.api.patch import Patch
from shared.models import DeliveryStatus
from shared.webhooks.targets import MAX_URL_CHARS
from shared.webhooks.types import WebhookType

Url = Annotated[
    Text,
    Field(
        min_length=1,
        max_length=MAX_URL_CHARS,
        description="Where the messages are POSTed: https, on a public address (decision 037).",
        examples=["https://crm.example.com/hooks/nextcall"],
    ),
]
EventTypes = Annotated[
    list[WebhookType],
    Field(min_length=1, max_length=len(WebhookType), description="The types sent to it."),
]
Description = Annotated[Text, Field(max_length=200)]

ENDPOINT_EXAMPLE: dict[str, Any] = {
    "id": 3,
    "url": "https://crm.example.com/hooks/nextcall",
    "description": "CRM sync",
    "event_types": ["outcome.registered", "customer.moved"],
    "enabled": True,
    "created_at": "2026-12-01T08:00:00Z",
    "updated_at": "2026-12-01T08:00:00Z",
}


class EndpointCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": ENDPOINT_EXAMPLE["url"],
                    "event_types": ENDPOINT_EXAMPLE["event_types"],
                    "description": "CRM sync",
                }
            ]
        },
        extra="forbid",
    )

    url: Url
    event_types: EventTypes
    description: Description = ""
    enabled: Flag = True


class EndpointChange(Patch):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"enabled": False}]},
        extra="forbid",
    )

    url: Url | None = None
    event_types: EventTypes | None = None
    description: Description | None = None
    enabled: Flag | None = None


class EndpointOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [ENDPOINT_EXAMPLE]},
        from_attributes=True,
    )

    id: int
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    created_at: datetime
    updated_at: datetime


class EndpointCreated(EndpointOut):
    """The new endpoint and its signing secret: the only answer that shows the secret."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [ENDPOINT_EXAMPLE | {"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]
        }
    )

    secret: str = Field(description="Verifies the messages' signatures (docs/webhooks.md).")


DELIVERY_EXAMPLE: dict[str, Any] = {
    "id": 812,
    "endpoint_id": 3,
    "message_id": "msg_5f0c3e1d9a2b4c6e8f7a1b2c3d4e5f60",
    "event_type": "outcome.registered",
    "status": "dead",
    "attempts": 11,
    "next_attempt_at": "2026-12-02T08:00:00Z",
    "last_attempt_at": "2026-12-02T08:00:00Z",
    "last_status": 503,
    "last_error": "answered 503",
    "delivered_at": None,
    "replays": 0,
    "created_at": "2026-12-01T08:00:00Z",
    "payload": {
        "id": "msg_5f0c3e1d9a2b4c6e8f7a1b2c3d4e5f60",
        "type": "outcome.registered",
        "timestamp": "2026-12-01T08:00:00+00:00",
        "data": {"event_id": 10001, "customer_id": 42, "code": "sale"},
    },
}


class DeliveryOut(BaseModel):
    """One message to the endpoint, and how its last try went."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [DELIVERY_EXAMPLE]},
        from_attributes=True,
    )

    id: int
    endpoint_id: int
    message_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    replays: int
    created_at: datetime
    payload: dict[str, Any]


class Replayed(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"replayed": 12}]})

    replayed: int = Field(description="Deliveries queued again.")
