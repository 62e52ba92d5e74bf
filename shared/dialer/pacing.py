"""How many calls a dialer starts now for an assignment (rule 36).

A placeholder with the interface the pacing algorithm keeps: one call per ready agent not yet
given a call, in both modes (progressive pacing). Callers construct PacingInput with keyword
arguments; fields added later have defaults.
"""

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class PacingInput:
    mode: Literal["progressive", "predictive"]
    ready_agents: int  # agents in state ready and not yet given a call
    wrapping_up: int  # agents in wrap-up now
    wrap_up_remaining_s: tuple[float, ...]  # seconds each wrapping-up agent has left (estimate)
    calls_in_flight: int  # dials started and not yet reported
    answer_rate: float | None  # answered / dialed over the recent window; None: too few dials
    mean_ring_answered_s: float | None  # ring time of answered calls, recent
    mean_handle_s: float | None  # talk + wrap-up, recent
    abandoned_window: int  # abandoned calls in the last 15 minutes
    answered_window: int  # answered calls in the last 15 minutes
    abandoned_day: int
    answered_day: int
    abandon_cap: float  # e.g. 0.03: abandoned / answered


def calls_to_place(state: PacingInput) -> int:
    """One call per ready agent without one."""
    return max(0, state.ready_agents - state.calls_in_flight)
