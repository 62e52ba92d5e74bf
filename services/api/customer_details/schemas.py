from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from services.api.fields import Text
from services.api.pagination import Page
from services.api.privacy.schemas import PrivacyOut


class CustomerFields(BaseModel):
    """The CRM fields of a customer (rule 24)."""

    id: int
    external_id: str
    first_name: str
    last_name: str
    phone_1: str | None
    phone_2: str | None
    phone_3: str | None
    email: str | None
    language: str | None
    time_zone: str | None
    country: str | None
    account_type: str
    city: str
    custom: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    anonymised_at: datetime | None


class UserRef(BaseModel):
    id: int
    name: str


class MembershipDetails(BaseModel):
    """Where the customer stands now, and who or which process put it there."""

    assignment_id: int
    assignment_name: str
    segment_id: int | None
    segment_name: str
    state: str
    state_name: str
    state_kind: str
    state_set_by: str
    state_set_by_user: UserRef | None
    state_set_at: datetime | None
    attempts: int
    last_attempt_at: datetime | None
    followup_at: datetime | None
    followup_kind: str | None
    followup_owner: UserRef | None
    version: int


class HolderOut(BaseModel):
    """The agent who holds (leases) the customer now; the lease token stays with them."""

    user: UserRef
    lease_expires_at: datetime


class ProductOut(BaseModel):
    id: int
    name: str
    status: str
    quantity: int
    amount_minor: int
    currency: str
    assignment_id: int | None
    event_id: int | None
    user_id: int | None
    created_at: datetime


class ProductsOut(BaseModel):
    offered: list[ProductOut]  # open
    sold: list[ProductOut]  # closed


class MeetingOut(BaseModel):
    id: int
    starts_at: datetime
    ends_at: datetime | None
    location: str
    note: str
    assignment_id: int | None
    event_id: int | None
    user_id: int | None
    cancelled: bool
    cancelled_at: datetime | None


class CustomerDetails(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer": {
                        "id": 1042,
                        "external_id": "CRM-10042",
                        "first_name": "Ola",
                        "last_name": "Nordmann",
                        "phone_1": "+4791234567",
                        "phone_2": None,
                        "phone_3": None,
                        "email": "ola@example.com",
                        "language": "nb",
                        "time_zone": "Europe/Oslo",
                        "country": "NO",
                        "account_type": "private",
                        "city": "Oslo",
                        "custom": {"score": 80},
                        "created_at": "2026-11-20T10:00:00Z",
                        "updated_at": "2026-12-05T09:31:00Z",
                        "anonymised_at": None,
                    },
                    "privacy": {
                        "data_controller": "Acme AS, Oslo",
                        "processing_purpose": "Sales of insurance to existing customers",
                    },
                    "membership": {
                        "assignment_id": 3,
                        "assignment_name": "Spring campaign",
                        "segment_id": None,
                        "segment_name": "unsegmented",
                        "state": "follow_up",
                        "state_name": "Sale to follow up",
                        "state_kind": "progressive",
                        "state_set_by": "user",
                        "state_set_by_user": {"id": 7, "name": "Kari Nordmann"},
                        "state_set_at": "2026-12-05T09:31:00Z",
                        "attempts": 2,
                        "last_attempt_at": "2026-12-04T13:00:00Z",
                        "followup_at": "2027-03-01T08:30:00Z",
                        "followup_kind": "personal",
                        "followup_owner": {"id": 7, "name": "Kari Nordmann"},
                        "version": 6,
                    },
                    "holder": None,
                    "products": {
                        "offered": [],
                        "sold": [
                            {
                                "id": 31,
                                "name": "Home insurance",
                                "status": "sold",
                                "quantity": 1,
                                "amount_minor": 129900,
                                "currency": "NOK",
                                "assignment_id": 3,
                                "event_id": 88120,
                                "user_id": 7,
                                "created_at": "2026-12-05T09:31:00Z",
                            }
                        ],
                    },
                    "meetings": [],
                }
            ]
        }
    )

    customer: CustomerFields
    privacy: PrivacyOut
    membership: MembershipDetails | None
    holder: HolderOut | None
    products: ProductsOut
    meetings: list[MeetingOut]


class EventOut(BaseModel):
    id: int
    kind: str
    code: str | None
    from_state: str | None
    to_state: str | None
    comment: str
    data: dict[str, Any]
    user: UserRef | None
    assignment_id: int | None
    created_at: datetime
    excluded_from_reports: bool
    report_user_id: int | None
    report_at: datetime | None
    corrects_event_id: int | None
    corrected_by_event_id: int | None


class EventPage(Page[EventOut]):
    """A customer's events, newest first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "id": 88120,
                            "kind": "outcome",
                            "code": "interested",
                            "from_state": "free",
                            "to_state": "follow_up",
                            "comment": "Call back in March",
                            "data": {},
                            "user": {"id": 7, "name": "Kari Nordmann"},
                            "assignment_id": 3,
                            "created_at": "2026-12-05T09:31:00Z",
                            "excluded_from_reports": False,
                            "report_user_id": None,
                            "report_at": None,
                            "corrects_event_id": None,
                            "corrected_by_event_id": None,
                        }
                    ],
                    "limit": 1,
                    "next": "WyJldmVudHMiLDg4MTIwXQ",
                }
            ]
        }
    )


Phone = Annotated[Text, Field(max_length=40)]


class CustomerEdit(BaseModel):
    """CRM fields to change; a field left out stays, null or "" clears it (external_id
    cannot be cleared). `custom` changes only the keys it names; null clears a key."""

    # A misspelt field name must not answer 200 having changed nothing.
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"phone_1": "+47 912 34 567", "email": "ola@example.com", "custom": {"score": 80}},
                {"phone_2": None},
            ]
        },
        extra="forbid",
    )

    external_id: Annotated[Text, Field(max_length=400)] | None = None
    first_name: Annotated[Text, Field(max_length=400)] | None = None
    last_name: Annotated[Text, Field(max_length=400)] | None = None
    phone_1: Phone | None = None
    phone_2: Phone | None = None
    phone_3: Phone | None = None
    email: Annotated[Text, Field(max_length=640)] | None = None
    language: Annotated[Text, Field(max_length=40)] | None = None
    time_zone: Annotated[Text, Field(max_length=128)] | None = None
    country: (
        Annotated[
            Text, Field(max_length=8, description="ISO 3166 alpha-2: national numbers are its.")
        ]
        | None
    ) = None
    account_type: Annotated[Text, Field(max_length=100)] | None = None
    city: Annotated[Text, Field(max_length=400)] | None = None
    custom: dict[Annotated[str, Field(max_length=100)], Any] | None = None


class CustomerCreate(CustomerEdit):
    """A new customer outside any assignment (rule 4: refused when it looks like a duplicate)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "external_id": "CRM-10042",
                    "first_name": "Ola",
                    "last_name": "Nordmann",
                    "phone_1": "+47 912 34 567",
                    "email": "ola@example.com",
                    "language": "nb",
                    "time_zone": "Europe/Oslo",
                }
            ]
        }
    )

    external_id: Annotated[Text, Field(min_length=1, max_length=400)]


class DuplicateOf(BaseModel):
    id: int
    name: str
