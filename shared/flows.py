"""Customer flows (rule 7): states of a kind, outcomes from states to a state, follow-up rules."""

from enum import StrEnum
from typing import Self

from pydantic import BaseModel, Field, StrictBool, model_validator

KEY_PATTERN = r"^[a-z0-9_]{1,100}$"


class StateKind(StrEnum):
    free = "free"
    progressive = "progressive"
    final = "final"


class FollowUpRule(StrEnum):
    none = "none"
    personal = "personal"
    shared = "shared"


class FlowState(BaseModel):
    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    kind: StateKind


class FlowOutcome(BaseModel):
    code: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    from_states: list[str] = Field(min_length=1)
    to_state: str
    follow_up: FollowUpRule = FollowUpRule.none
    follow_up_time_required: StrictBool = False


class FlowSpec(BaseModel):
    """A valid flow: unique keys, outcomes between known states, at least one free state.

    The first free state is where imported and moved customers start.
    """

    states: list[FlowState] = Field(min_length=1, max_length=100)
    outcomes: list[FlowOutcome] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        keys = [s.key for s in self.states]
        if len(set(keys)) != len(keys):
            raise ValueError("state keys must be unique")
        if not any(s.kind == StateKind.free for s in self.states):
            raise ValueError("a flow needs at least one state of kind 'free'")
        seen: set[tuple[str, str]] = set()
        for o in self.outcomes:
            for state in [*o.from_states, o.to_state]:
                if state not in keys:
                    raise ValueError(f"outcome '{o.code}' names unknown state '{state}'")
            for state in o.from_states:
                if (o.code, state) in seen:
                    raise ValueError(f"outcome '{o.code}' is declared twice from '{state}'")
                seen.add((o.code, state))
            if o.follow_up == FollowUpRule.none and o.follow_up_time_required:
                raise ValueError(f"outcome '{o.code}' requires a time but has no follow-up")
        return self

    @property
    def initial_state(self) -> str:
        return next(s.key for s in self.states if s.kind == StateKind.free)

    def kind_of(self, state: str) -> StateKind:
        for s in self.states:
            if s.key == state:
                return s.kind
        # A state removed from an edited flow: nothing is served from it, nothing lost.
        return StateKind.progressive

    def outcome(self, code: str, from_state: str) -> FlowOutcome | None:
        for o in self.outcomes:
            if o.code == code and from_state in o.from_states:
                return o
        return None

    def has_outcome(self, code: str) -> bool:
        return any(o.code == code for o in self.outcomes)
