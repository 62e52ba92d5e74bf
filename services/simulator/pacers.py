"""Who decides how many calls to start: ours, progressive, and VICIdial's adaptive methods.

A pacer sees what the backend paces from (`PacingInput`) and, for the comparison only, what a
telephony platform that paces by itself sees of its floor (`Floor`): VICIdial's adaptive
dial level counts agents on a call and answered calls waiting for an agent.
"""

from collections import deque
from dataclasses import dataclass
from typing import Literal, Protocol

from shared.dialer.pacing import Mode, PacingInput, calls_to_place

VicidialMethod = Literal["ADAPT_HARD_LIMIT", "ADAPT_TAPERED", "ADAPT_AVERAGE"]
VICIDIAL_METHODS: tuple[VicidialMethod, ...] = (
    "ADAPT_HARD_LIMIT",
    "ADAPT_TAPERED",
    "ADAPT_AVERAGE",
)


@dataclass(frozen=True)
class Floor:
    now: float
    signed_in: int
    on_call: int
    waiting_calls: int
    """Answered calls waiting for an agent (within the 2-second grace)."""
    dials_day: int
    day_end: float
    """When the shift ends (ADAPT_TAPERED's "latest server time")."""


class Pacer(Protocol):
    @property
    def mode(self) -> Mode: ...

    def decide(self, state: PacingInput, floor: Floor) -> int: ...


class Ours:
    """shared/dialer/pacing.py, in the mode it was built with."""

    def __init__(self, mode: Mode = "predictive") -> None:
        self._mode: Mode = mode

    @property
    def mode(self) -> Mode:
        return self._mode

    def decide(self, state: PacingInput, floor: Floor) -> int:
        return calls_to_place(state)


class Vicidial:
    """VICIdial's adaptive predictive dialing, as AST_VDadapt.pl and AST_VDauto_dial.pl do it.

    Each second the auto-dialer keeps round(level x (ready + in-call agents)) lines busy:
    dials ringing, answered calls waiting and calls bridged to agents all count; agents in
    wrap-up (VICIdial's paused/dispo) do not. Every 15 seconds the level is multiplied by
    1 + (mean ready agents - mean waiting calls) / mean agents over the last 15 samples,
    capped at the maximum level and never under 1. Then the drop rules: over 20 dials in the
    last minute with more than half dropped halves it; once over 50 dials today with today's
    drops / answers above the limit, ADAPT_HARD_LIMIT sets 1.0, ADAPT_AVERAGE halves the
    level and ADAPT_TAPERED multiplies it by (hours to the shift's end) / 10.
    Defaults as VICIdial ships them: intensity 0, dial level difference target 0, maximum
    level 3.0, available-only tally off.
    """

    UPDATE_EVERY_S = 15
    SAMPLES = 15

    def __init__(
        self, method: VicidialMethod, *, max_level: float = 3.0, available_only: bool = False
    ) -> None:
        self.method = method
        self.max_level = max_level
        self.available_only = available_only
        self.level = 1.0
        self._samples: deque[tuple[int, int, int]] = deque(maxlen=self.SAMPLES)
        self._minute: deque[tuple[float, int, int]] = deque()  # time, dials, drops (cumulative)
        self._next_update = float(self.UPDATE_EVERY_S)

    @property
    def mode(self) -> Mode:
        return "predictive"

    def decide(self, state: PacingInput, floor: Floor) -> int:
        self._samples.append((state.ready_agents, floor.waiting_calls, floor.signed_in))
        self._minute.append((floor.now, floor.dials_day, state.abandoned_day))
        while self._minute[0][0] < floor.now - 60:
            self._minute.popleft()
        if floor.now >= self._next_update:
            self._next_update = floor.now + self.UPDATE_EVERY_S
            self.level = self._adapt(state, floor)
        if self.available_only:
            # available_only_ratio_tally=Y: lines per ready agent; bridged calls count apart.
            lines = state.calls_in_flight + floor.waiting_calls
            return max(0, round(self.level * state.ready_agents) - lines)
        agents = state.ready_agents + floor.on_call
        lines = state.calls_in_flight + floor.waiting_calls + floor.on_call
        return max(0, round(self.level * agents) - lines)

    def _adapt(self, state: PacingInput, floor: Floor) -> float:
        count = len(self._samples)
        ready = sum(s[0] for s in self._samples) / count
        waiting = sum(s[1] for s in self._samples) / count
        agents = sum(s[2] for s in self._samples) / count
        level = self.level
        if agents > 0 and ready != waiting:
            level *= 1 + (ready - waiting) / agents
        level = max(1.0, min(self.max_level, level))
        _, dials_then, drops_then = self._minute[0]
        dials_minute, drops_minute = floor.dials_day - dials_then, state.abandoned_day - drops_then
        if dials_minute > 20 and drops_minute > 0.5 * dials_minute:
            level /= 2
        over = state.answered_day and state.abandoned_day / state.answered_day > state.abandon_cap
        if floor.dials_day > 50 and over:
            level = self._over_limit(level, floor)
        return max(1.0, level)

    def _over_limit(self, level: float, floor: Floor) -> float:
        if self.method == "ADAPT_HARD_LIMIT":
            return 1.0
        if self.method == "ADAPT_AVERAGE":
            return level / 2
        hours_left = (floor.day_end - floor.now) / 3600
        return 1.0 if hours_left < 0 else level * min(1.0, hours_left / 10)
