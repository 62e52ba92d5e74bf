from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from services.api.fields import Text
from shared.privacy.retention import MAX_MONTHS, MIN_MONTHS


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


class SubjectAccessOut(BaseModel):
    """Everything held about one customer (GDPR article 15): each section whole, as stored."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer_id": 1042,
                    "exported_at": "2026-12-06T10:00:00Z",
                    "sections": {
                        "customer": {"id": 1042, "external_id": "CRM-10042", "first_name": "Ola"},
                        "data_controller": {
                            "data_controller": "Acme AS, Oslo",
                            "processing_purpose": "Sales of insurance to existing customers",
                        },
                        "membership": None,
                        "events": [{"id": 88120, "kind": "outcome", "code": "sale"}],
                        "products": [],
                        "meetings": [],
                        "corrections": [],
                        "care_requests": [],
                    },
                }
            ]
        }
    )

    customer_id: int
    exported_at: datetime
    sections: dict[str, Any] = Field(
        description="customer, data_controller, membership, events, products, meetings, "
        "corrections, care_requests (and consent and register hits where recorded)"
    )


Months = Annotated[int, Field(ge=MIN_MONTHS, le=MAX_MONTHS)]


class RetentionIn(BaseModel):
    """Anonymise customers without activity for `months`; null removes the policy."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"months": 24}, {"months": None}]})

    months: Months | None


class AssignmentRetention(BaseModel):
    assignment_id: int
    months: int


class RetentionOut(BaseModel):
    """The tenant's policy (null: none) and the assignments' own, which apply to their
    customers instead."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"months": 24, "assignments": [{"assignment_id": 3, "months": 6}]}]
        }
    )

    months: int | None
    assignments: list[AssignmentRetention]
