"""Request and response bodies of /v1/blocked-phones."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from services.api.fields import Moment, Text


class BlockedPhoneCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "phone": "+47 22 33 44 55",
                    "reason": "Asked not to be called",
                    "expires_at": "2027-06-01T00:00:00Z",
                }
            ]
        },
        extra="forbid",
    )

    phone: Annotated[
        Text,
        Field(
            min_length=1,
            max_length=50,
            description="Any common notation; stored in E.164 (Norwegian numbers without +47).",
            examples=["+47 22 33 44 55"],
        ),
    ]
    reason: Annotated[Text, Field(max_length=200)] = ""
    expires_at: Annotated[
        Moment | None,
        Field(description="When the block ends by itself; null or absent: never."),
    ] = None


BLOCKED_EXAMPLE: dict[str, Any] = {
    "id": 9,
    "phone": "+4722334455",
    "reason": "Asked not to be called",
    "created_at": "2026-12-01T08:00:00Z",
    "blocked_by": 7,
    "expires_at": None,
}


class BlockedPhoneOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [BLOCKED_EXAMPLE]},
        from_attributes=True,
    )

    id: int
    phone: str
    reason: str
    created_at: datetime
    blocked_by: int | None = Field(description="the user who blocked it; null if not recorded")
    expires_at: datetime | None = Field(description="when the block ends; null: never")


class BlockedPhoneChange(BlockedPhoneOut):
    """The blocked number and how many customers it re-placed in their queues."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{**BLOCKED_EXAMPLE, "customers_affected": 1}]}
    )

    customers_affected: int
