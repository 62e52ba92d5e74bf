from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from services.api.fields import Text


class PrivacyOut(BaseModel):
    """Who controls the tenant's customer data and why it is processed (rule 5)."""

    data_controller: str
    processing_purpose: str


class PrivacyIn(BaseModel):
    data_controller: Annotated[Text, Field(max_length=300)]
    processing_purpose: Annotated[Text, Field(max_length=1000)]


class AnonymisedOut(BaseModel):
    customer_id: int
    external_id: str
    anonymised_at: datetime
    event_id: int
