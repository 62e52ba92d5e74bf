"""A pacing request to start from: ten ready agents, a 20 % answer rate, a clean window."""

from dataclasses import replace

from shared.dialer.pacing import PacingInput

BASE = PacingInput(
    mode="predictive",
    ready_agents=10,
    wrapping_up=0,
    wrap_up_remaining_s=(),
    calls_in_flight=0,
    answer_rate=0.2,
    mean_ring_answered_s=8.0,
    mean_handle_s=105.0,
    abandoned_window=0,
    answered_window=400,
    abandoned_day=0,
    answered_day=4000,
    abandon_cap=0.03,
    mean_ring_unanswered_s=22.5,
)


def pacing_input(**overrides: object) -> PacingInput:
    return replace(BASE, **overrides)  # type: ignore[arg-type]
