from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.api.fields import Text


class PrivacyOut(BaseModel):
    """Who controls the tenant's customer data and why it is processed (rule 5)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "data_controller": "Acme AS, Oslo",
                    "processing_purpose": "Sales of insurance to existing customers",
                }
            ]
        }
    )

    data_controller: str
    processing_purpose: str


class PrivacyIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "data_controller": "Acme AS, Oslo",
                    "processing_purpose": "Sales of insurance to existing customers",
                }
            ]
        }
    )

    data_controller: Annotated[Text, Field(max_length=300)]
    processing_purpose: Annotated[Text, Field(max_length=1000)]


class AnonymisedOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer_id": 1042,
                    "external_id": "CRM-10042",
                    "anonymised_at": "2026-12-05T10:00:00Z",
                    "event_id": 88120,
                }
            ]
        }
    )

    customer_id: int
    external_id: str
    anonymised_at: datetime
    event_id: int
