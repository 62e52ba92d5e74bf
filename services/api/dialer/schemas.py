"""The dialer boundary's bodies and answers (rule 36, docs/dialer.md)."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.api.fields import DbId, Text
from services.api.work.schemas import CardOut, Reasons
from shared.models import DialResult

# The most customers one reservation asks for: a dialer asks again as calls end.
MAX_RESERVE = 100
DIAL_ID_EXAMPLE = "3.1042.Xk2v9QmZ1rT0Pq7w-1"


class ReserveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"count": 5}]})

    count: int = Field(default=1, ge=1, le=MAX_RESERVE, description="How many customers, at most.")


class Reservation(BaseModel):
    """A customer leased to the dialer until `expires_at`: dial it and report the result."""

    dial_id: str = Field(description="Names the reservation in the result; opaque.")
    customer_id: int
    phones: list[str] = Field(description="E.164, in the order to try.")
    time_zone: str | None
    source: str = Field(description="shared_followup (a call-back, an abandoned call) or free.")
    expires_at: datetime


class ReservationsOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reservations": [
                        {
                            "dial_id": DIAL_ID_EXAMPLE,
                            "customer_id": 1042,
                            "phones": ["+4722334455"],
                            "time_zone": "Europe/Oslo",
                            "source": "free",
                            "expires_at": "2026-12-06T10:16:00Z",
                        }
                    ],
                    "reasons": None,
                    "next_eligible_at": None,
                }
            ]
        }
    )

    reservations: list[Reservation]
    reasons: Reasons | None = Field(description="Why there are none, when there are none.")
    next_eligible_at: datetime | None


ReportedResult = Literal[
    "answered", "no_answer", "busy", "machine", "failed", "invalid_number", "abandoned"
]


class DialReport(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"result": "answered", "agent_id": 12, "ring_seconds": 7.5},
                {"result": "no_answer", "ring_seconds": 25},
            ]
        },
    )

    result: ReportedResult
    agent_id: DbId | None = Field(
        default=None,
        description="answered: the agent the call was bridged to; none: the agent of the "
        "assignment ready the longest.",
    )
    ring_seconds: float | None = Field(default=None, ge=0, le=600)


class DialOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "dial_id": DIAL_ID_EXAMPLE,
                    "result": "answered",
                    "customer_id": 1042,
                    "agent_id": 12,
                    "event_id": 99812,
                    "replayed": False,
                }
            ]
        }
    )

    dial_id: str
    result: DialResult
    customer_id: int
    agent_id: int | None
    event_id: int | None
    replayed: bool = Field(description="The same result was reported before: nothing changed now.")


class HangupOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"dial_id": DIAL_ID_EXAMPLE, "agent_id": 12}]}
    )

    dial_id: str
    agent_id: int | None = Field(description="The agent now in wrap-up; none if it left the call.")


class PacingOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "calls": 3,
                    "mode": "predictive",
                    "ready_agents": 4,
                    "calls_in_flight": 1,
                    "wrapping_up": 2,
                    "answer_rate": 0.22,
                    "abandon_rate_window": 0.01,
                }
            ]
        }
    )

    calls: int = Field(description="How many calls to start now.")
    mode: Literal["progressive", "predictive"]
    ready_agents: int
    calls_in_flight: int
    wrapping_up: int
    answer_rate: float | None
    abandon_rate_window: float | None


Caller = Annotated[Text, Field(min_length=3, max_length=40)]


class InboundCall(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"caller": "+47 22 33 44 55"}]}
    )

    caller: Caller = Field(description="The calling number, in any format the imports read.")
    agent_id: DbId | None = Field(
        default=None,
        description="The agent the call is routed to; none: a ready agent working the "
        "customer's assignment.",
    )


class InboundOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"matched": True, "customer_id": 1042, "agent_id": 12, "dial_id": "in.3.1042.a1"}
            ]
        }
    )

    matched: bool
    customer_id: int | None
    agent_id: int | None
    dial_id: str | None


class BridgedCard(BaseModel):
    """The `call_bridged` event on the agent's stream: the call's card, leased to the agent."""

    dial_id: str
    card: CardOut
