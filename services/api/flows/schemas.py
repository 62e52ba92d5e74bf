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

    model_config = ConfigDict(extra="forbid")

    name: Name
    states: list[FlowState] = Field(min_length=1, max_length=100)
    outcomes: list[FlowOutcome] = Field(min_length=1, max_length=500)


class FlowOut(BaseModel):
    id: int
    name: str
    states: list[FlowState]
    outcomes: list[FlowOutcome]
    initial_state: str = Field(description="The free state imported and moved customers start in.")
    created_at: datetime
