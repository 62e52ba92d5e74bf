"""Request and response bodies of /v1/flows."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.api.fields import Name
from shared.flows import FlowOutcome, FlowState


class FlowCreate(BaseModel):
    """A flow: its states and the outcomes between them (rule 7).

    Beyond the shape checked here, the flow must be consistent: unique state keys, at least one
    state of kind `free`, outcomes only between declared states.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Sales",
                    "states": [
                        {"key": "free", "name": "Free", "kind": "free"},
                        {"key": "follow_up", "name": "Sale to follow up", "kind": "progressive"},
                        {"key": "sold", "name": "Sold", "kind": "final"},
                    ],
                    "outcomes": [
                        {
                            "code": "sale",
                            "name": "Sale",
                            "from_states": ["free", "follow_up"],
                            "to_state": "sold",
                        },
                        {
                            "code": "interested",
                            "name": "Interested",
                            "from_states": ["free"],
                            "to_state": "follow_up",
                            "follow_up": "personal",
                            "follow_up_time_required": True,
                        },
                    ],
                }
            ]
        },
        extra="forbid",
    )

    name: Name
    states: list[FlowState] = Field(min_length=1, max_length=100)
    outcomes: list[FlowOutcome] = Field(min_length=1, max_length=500)


class FlowOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "name": "Sales",
                    "states": [
                        {"key": "free", "name": "Free", "kind": "free"},
                        {"key": "sold", "name": "Sold", "kind": "final"},
                    ],
                    "outcomes": [
                        {
                            "code": "sale",
                            "name": "Sale",
                            "from_states": ["free"],
                            "to_state": "sold",
                            "follow_up": "none",
                            "follow_up_time_required": False,
                        }
                    ],
                    "initial_state": "free",
                    "created_at": "2026-12-01T08:00:00Z",
                }
            ]
        }
    )

    id: int
    name: str
    states: list[FlowState]
    outcomes: list[FlowOutcome]
    initial_state: str = Field(description="The free state imported and moved customers start in.")
    created_at: datetime
