"""Request and response bodies of /v1/customers/{id}/consents."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from services.api.fields import Flag, Moment, Text
from shared.models import Channel

CONSENT_EXAMPLE: dict[str, Any] = {
    "id": 41,
    "channel": "phone",
    "given": False,
    "purpose": "telemarketing",
    "source": "call",
    "at": "2026-12-06T10:15:00Z",
    "recorded_by": 7,
    "recorded_at": "2026-12-06T10:15:02Z",
}


class ConsentCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"channel": "phone", "given": False, "purpose": "telemarketing", "source": "call"}
            ]
        },
        extra="forbid",
    )

    channel: Channel
    given: Flag = Field(description="true: consent given; false: withdrawn")
    purpose: Annotated[Text, Field(max_length=200)] = ""
    source: Annotated[
        Text, Field(max_length=200, description="where it came from: a call, a web form, ...")
    ] = ""
    at: Annotated[
        Moment | None,
        Field(description="when the customer gave or withdrew it; absent: now"),
    ] = None


class ConsentOut(BaseModel):
    """One entry of the customer's consent history (append-only; the latest per channel is
    in force)."""

    model_config = ConfigDict(json_schema_extra={"examples": [CONSENT_EXAMPLE]})

    id: int
    channel: Channel
    given: bool
    purpose: str
    source: str
    at: datetime
    recorded_by: int | None
    recorded_at: datetime
