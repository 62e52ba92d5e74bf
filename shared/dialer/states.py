"""Which changes of an agent's state are allowed, and to whom (rule 35, decision 035)."""

from enum import StrEnum

from shared.errors import Conflict, Unprocessable
from shared.models import AgentState

S = AgentState


class Actor(StrEnum):
    agent = "agent"  # the agent, through its app
    dialer = "dialer"  # the dial flow: a dialer's reports, an inbound call


# An agent signs in ready or paused, pauses and resumes, ends its wrap-up, and hangs up (on
# call -> wrap-up). Reserved and on call are the dial flow's: an agent never takes a call by
# saying so, and cannot sign off with a call or a reservation running.
_AGENT_MAY: dict[AgentState, frozenset[AgentState]] = {
    S.signed_off: frozenset({S.ready, S.paused, S.signed_off}),
    S.ready: frozenset({S.ready, S.paused, S.signed_off}),
    S.paused: frozenset({S.ready, S.paused, S.signed_off}),
    S.wrap_up: frozenset({S.ready, S.paused, S.signed_off, S.wrap_up}),
    S.reserved: frozenset(),
    S.on_call: frozenset({S.wrap_up}),
}
# The dialer reserves a ready agent for a call it connects (or gives it back), bridges an
# answered call to a ready or reserved agent, and hangs up.
_DIALER_MAY: dict[AgentState, frozenset[AgentState]] = {
    S.ready: frozenset({S.reserved, S.on_call}),
    S.reserved: frozenset({S.ready, S.on_call}),
    S.on_call: frozenset({S.wrap_up}),
}

# States in which an agent works an assignment (and is counted there by pacing).
SEATED = frozenset({S.ready, S.reserved, S.on_call, S.wrap_up, S.paused})
# States that hold a call: at most one per agent.
WITH_CALL = frozenset({S.on_call, S.wrap_up})


def check(current: AgentState, wanted: AgentState, *, by: Actor, reason: str) -> None:
    """Raise unless `by` may change an agent from `current` to `wanted` (nothing changes)."""
    allowed = (_AGENT_MAY if by == Actor.agent else _DIALER_MAY).get(current, frozenset())
    if wanted not in allowed:
        if current == S.on_call and by == Actor.dialer and wanted == S.on_call:
            raise Conflict("the agent is on a call already", code="agent_busy")
        raise Conflict(
            f"an agent cannot go from {current.value} to {wanted.value} this way",
            code="agent_state_conflict",
        )
    if wanted == S.paused and not reason.strip():
        raise Unprocessable("a pause needs a reason", code="pause_reason_required")
