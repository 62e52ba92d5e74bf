"""Request and response bodies of the agent's work endpoints."""

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Self, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from services.api.fields import Text
from shared.infra.timeutil import as_utc
from shared.membership.attempts import AttemptKind
from shared.membership.record import SHOWN_COLUMNS, MembershipRecord
from shared.models import ProductStatus

# The longest a /next may wait for a customer (long poll).
MAX_WAIT_SECONDS = 30

# Examples of the schema (docs and generated clients), shared by the answers that carry them.
LEASE_EXAMPLE: dict[str, Any] = {"id": "b1f0c4e2a9d84f6e", "expires_at": "2026-12-05T09:35:00Z"}
MEMBERSHIP_EXAMPLE: dict[str, Any] = {
    "assignment_id": 3,
    "segment_id": None,
    "state": "follow_up",
    "state_kind": "progressive",
    "state_set_by": "user",
    "state_set_by_user_id": 7,
    "state_set_at": "2026-12-05T09:31:00Z",
    "attempts": 2,
    "last_attempt_at": "2026-12-04T13:00:00Z",
    "followup_at": "2027-03-01T08:30:00Z",
    "followup_kind": "personal",
    "followup_owner_id": 7,
    "version": 6,
}


class NextRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{}, {"wait_seconds": 20}]})

    segment_id: int | None = Field(default=None, description="Only this segment; none = any.")
    wait_seconds: int = Field(
        default=0,
        ge=0,
        le=MAX_WAIT_SECONDS,
        description="When no customer is eligible, wait up to this long for one (long poll) "
        "and answer the moment one is; 0 answers at once.",
    )


class LeaseBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"lease_id": LEASE_EXAMPLE["id"]}]})

    lease_id: Text = Field(min_length=1, max_length=64)


class AttemptRequest(LeaseBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"lease_id": LEASE_EXAMPLE["id"], "version": 5, "kind": "no_answer"},
                {
                    "lease_id": LEASE_EXAMPLE["id"],
                    "version": 5,
                    "kind": "call_back_later",
                    "at": "2026-12-05T14:00:00+01:00",
                    "comment": "Asked to be called after lunch",
                },
            ]
        }
    )

    version: int = Field(ge=1, description="The membership version the card was handed with.")
    kind: AttemptKind
    at: datetime | None = Field(default=None, description="Required for call_back_later.")
    owner_id: int | None = Field(
        default=None, description="Colleague to own a personal follow-up; default: you."
    )
    comment: Text = Field(default="", max_length=4000)


class ProductIn(BaseModel):
    """A product offered (open) or sold (closed) with the outcome (rule 24)."""

    name: Text = Field(min_length=1, max_length=200)
    status: ProductStatus = ProductStatus.sold
    quantity: int = Field(default=1, ge=1, le=1_000_000)
    amount_minor: int = Field(
        default=0, ge=0, le=10**15, description="Money in minor units (cents, øre)."
    )
    currency: str = Field(default="", pattern=r"^([A-Z]{3})?$")


class MeetingIn(BaseModel):
    """A meeting booked with the outcome (rule 24)."""

    starts_at: datetime
    ends_at: datetime | None = None
    location: Text = Field(default="", max_length=300)
    note: Text = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.ends_at is not None and as_utc(self.ends_at) <= as_utc(self.starts_at):
            raise ValueError("ends_at must be after starts_at")
        return self


class OutcomeRequest(LeaseBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lease_id": LEASE_EXAMPLE["id"],
                    "version": 5,
                    "code": "sale",
                    "comment": "Home insurance from January",
                    "products": [
                        {"name": "Home insurance", "amount_minor": 129900, "currency": "NOK"}
                    ],
                },
                {
                    "lease_id": LEASE_EXAMPLE["id"],
                    "version": 5,
                    "code": "interested",
                    "follow_up_at": "2027-03-01T09:30:00+01:00",
                },
            ]
        }
    )

    version: int = Field(ge=1)
    code: Text = Field(min_length=1, max_length=100)
    follow_up_at: datetime | None = None
    follow_up_owner_id: int | None = None
    comment: Text = Field(default="", max_length=4000)
    fields: dict[str, Any] = Field(default_factory=dict)
    products: list[ProductIn] = Field(default_factory=list, max_length=50)
    meeting: MeetingIn | None = None


class CustomerOut(BaseModel):
    id: int
    external_id: str
    first_name: str
    last_name: str
    phones: list[str]
    email: str | None
    language: str | None
    time_zone: str | None
    custom: dict[str, Any]


def _shown_fields() -> dict[str, Any]:
    """The record's shown columns with their types, and the kind of its state after it."""
    types = get_type_hints(MembershipRecord)
    shown: dict[str, Any] = {}
    for name in SHOWN_COLUMNS:
        shown[name] = (types[name], ...)
        if name == "state":
            shown["state_kind"] = (str, ...)
    return shown


if TYPE_CHECKING:

    class MembershipOut(BaseModel):
        """A membership as the API shows it (built from MembershipRecord below)."""

        def __getattr__(self, name: str) -> Any: ...

else:
    # Derived from the record: a column added there is shown here without a second list.
    MembershipOut = create_model("MembershipOut", **_shown_fields())


class LeaseOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [LEASE_EXAMPLE]})

    id: str
    expires_at: datetime


class OutcomeChoice(BaseModel):
    code: str
    name: str
    to_state: str
    follow_up: str
    follow_up_time_required: bool


class CardOut(BaseModel):
    """The current customer: what the agent sees and may register."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "claimed",
                    "source": "free",
                    "lease": LEASE_EXAMPLE,
                    "customer": {
                        "id": 1042,
                        "external_id": "CRM-10042",
                        "first_name": "Ola",
                        "last_name": "Nordmann",
                        "phones": ["+4791234567"],
                        "email": "ola@example.com",
                        "language": "nb",
                        "time_zone": "Europe/Oslo",
                        "custom": {"score": 80},
                    },
                    "membership": {**MEMBERSHIP_EXAMPLE, "state": "free", "state_kind": "free"},
                    "outcomes": [
                        {
                            "code": "sale",
                            "name": "Sale",
                            "to_state": "sold",
                            "follow_up": "none",
                            "follow_up_time_required": False,
                        }
                    ],
                }
            ]
        }
    )

    status: Literal["claimed"] = "claimed"
    source: str
    lease: LeaseOut
    customer: CustomerOut
    membership: MembershipOut
    outcomes: list[OutcomeChoice]


class Reasons(BaseModel):
    held: int
    cooldown: int
    outside_hours: int
    blocked: int
    at_attempt_limit: int
    waiting_followups: int
    none_left: bool


class EmptyOut(BaseModel):
    """Nothing eligible now: why, and when the next customer can be (rule 13)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "empty",
                    "reasons": {
                        "held": 12,
                        "cooldown": 40,
                        "outside_hours": 0,
                        "blocked": 1,
                        "at_attempt_limit": 3,
                        "waiting_followups": 5,
                        "none_left": False,
                    },
                    "next_eligible_at": "2026-12-05T09:40:00Z",
                }
            ]
        }
    )

    status: Literal["empty"] = "empty"
    reasons: Reasons
    next_eligible_at: datetime | None
    stopped: str | None = Field(
        default=None,
        description="Why the assignment may not dial at all now (a do-not-call register "
        "older than its policy allows); null while it may.",
    )


class WriteResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"membership": MEMBERSHIP_EXAMPLE, "event_id": 88120}]}
    )

    membership: MembershipOut
    event_id: int


class ReleaseResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"released": True, "holder_user_id": 7}]}
    )

    released: bool
    holder_user_id: int
