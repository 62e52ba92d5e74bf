"""How many calls to start now for an assignment: what Redis knows of its agents and recent
dials, handed to the pacing algorithm (shared/dialer/pacing.py)."""

from services.api.auth.cache import Principal
from services.api.dialer.reservations import dialed_config
from services.api.dialer.schemas import PacingOut
from services.api.resources import Resources
from services.queue import AssignmentQueue, DialFloor, Floor
from shared.dialer.pacing import PacingInput, calls_to_place
from shared.models import AgentState, PresentationMode

# Below this many dials in the window the answer rate is not known yet (None to pacing).
MIN_DIALS = 20
# The wrap-up assumed before any was measured (the figure).
DEFAULT_WRAP_UP_S = 15.0


def _mean(counts: dict[str, int], total: str, n: str) -> float | None:
    return counts[total] / counts[n] / 1000 if counts.get(n) else None


def pacing_input(
    floor: Floor, *, mode: PresentationMode, now_ms: int, cap: float, reservation_s: float
) -> PacingInput:
    seats = floor.seats.values()
    window, day = floor.window, floor.day
    wrap_s = (
        _mean(window, "wrap_ms", "wraps") or _mean(day, "wrap_ms", "wraps") or DEFAULT_WRAP_UP_S
    )
    wrapping = [s for s in seats if s.state == AgentState.wrap_up.value]
    talk_s = _mean(window, "talk_ms", "talks") or _mean(day, "talk_ms", "talks")
    dialed = window.get("dialed", 0)
    return PacingInput(
        mode="predictive" if mode == PresentationMode.predictive else "progressive",
        ready_agents=sum(1 for s in seats if s.state == AgentState.ready.value),
        wrapping_up=len(wrapping),
        wrap_up_remaining_s=tuple(
            max(0.0, wrap_s - (now_ms - s.since_ms) / 1000) for s in wrapping
        ),
        calls_in_flight=floor.in_flight,
        answer_rate=window.get("live", 0) / dialed if dialed >= MIN_DIALS else None,
        mean_ring_answered_s=_mean(window, "ring_ms", "rings"),
        mean_ring_unanswered_s=_mean(window, "unanswered_ring_ms", "unanswered_rings"),
        # A reservation runs out `reservation_s` after the dial was reserved: its age follows.
        in_flight_ages_s=tuple(
            max(0.0, reservation_s - (expiry - now_ms) / 1000)
            for expiry in floor.in_flight_expiries_ms
        ),
        mean_handle_s=None if talk_s is None else talk_s + wrap_s,
        abandoned_window=window.get("abandoned", 0),
        answered_window=window.get("live", 0),
        abandoned_day=day.get("abandoned", 0),
        answered_day=day.get("live", 0),
        abandon_cap=cap,
    )


async def calls_now(res: Resources, principal: Principal, assignment_id: int) -> PacingOut:
    config = await dialed_config(res, principal, assignment_id)
    now_ms = int(res.clock().timestamp() * 1000)
    floor = await DialFloor(AssignmentQueue(res.redis, assignment_id)).read(now=now_ms)
    state = pacing_input(
        floor,
        mode=PresentationMode(config.assignment.presentation_mode),
        now_ms=now_ms,
        cap=config.assignment.abandon_cap,
        reservation_s=res.settings.dial_reservation_seconds,
    )
    return PacingOut(
        calls=calls_to_place(state),
        mode=state.mode,
        ready_agents=state.ready_agents,
        calls_in_flight=state.calls_in_flight,
        wrapping_up=state.wrapping_up,
        answer_rate=state.answer_rate,
        abandon_rate_window=(
            state.abandoned_window / state.answered_window if state.answered_window else None
        ),
    )
