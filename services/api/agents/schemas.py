"""Agents' states as the API shows and takes them (rule 35)."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.api.fields import DbId, Text
from shared.models import AgentState

Reason = Annotated[Text, Field(max_length=200)]


class StateChange(BaseModel):
    """What an agent says of itself: ready, paused (a reason), wrap-up (hung up), signed off."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"state": "ready", "assignment_id": 3},
                {"state": "paused", "reason": "coaching"},
            ]
        },
    )

    state: AgentState
    assignment_id: DbId | None = Field(
        default=None,
        description="The assignment to take calls for; required to sign in, else the one "
        "worked now is kept.",
    )
    reason: Reason = ""


class DialerStateChange(BaseModel):
    """What a dialer may say of an agent: reserved for a call it connects, or ready again."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"state": "reserved"}]}
    )

    state: AgentState


class AgentStateOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user_id": 12,
                    "name": "Kari Nordmann",
                    "state": "on_call",
                    "assignment_id": 3,
                    "reason": "",
                    "customer_id": 981,
                    "dial_id": "3.981.Xk2v9QmZ1rT0-1",
                    "since": "2026-12-06T10:15:00Z",
                }
            ]
        }
    )

    user_id: int
    name: str
    state: AgentState
    assignment_id: int | None
    reason: str
    customer_id: int | None = Field(description="The customer of the call held (on call, wrap-up).")
    dial_id: str | None
    since: datetime | None = Field(description="When the agent came into this state.")
