"""Request and response bodies of /v1/blocked-phones."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.api.fields import Text


class BlockedPhoneCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

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


class BlockedPhoneOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    phone: str
    reason: str
    created_at: datetime


class BlockedPhoneChange(BlockedPhoneOut):
    """The blocked number and how many customers it re-placed in their queues."""

    customers_affected: int
