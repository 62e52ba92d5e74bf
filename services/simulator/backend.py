"""The backend side of a simulation: what the telephony platform and agents talk to.

`Backend` is the boundary: agent state changes, "how many calls now", reserving customers to
dial and reporting each dial's result, as the dialer API offers them. `InProcessBackend` keeps
that state in memory with the same rules (a customer is dialed once at a time, a dial is
reported once or expires) and paces with a `Pacer`; a driver over the HTTP API can implement
the same protocol.
"""

from collections import deque
from dataclasses import dataclass
from typing import Literal, Protocol

from services.simulator.pacers import Floor, Pacer
from shared.dialer.pacing import PacingInput

Result = Literal["answered", "no_answer", "abandoned"]
AgentState = Literal["signed_off", "ready", "on_call", "wrap_up", "paused"]

RECENT_S = 300.0
"""Answer rate and ring times are read over the dials that ended in the last 5 minutes."""
MIN_RECENT_DIALS = 40
"""Fewer ended dials than this give no answer rate (the pacer then dials progressively)."""
WINDOW_S = 900.0
"""The abandon cap's short window: 15 minutes."""
RESERVATION_TTL_S = 60.0
"""A dial not reported this long after it started expires and its customer returns.

Twice the longest ring (30 s) plus the 2-second grace: a live dial is never expired.
"""

HANDLE_WEIGHT = 0.02
"""Each call's weight in the mean handle time (a moving average over about 50 calls)."""


@dataclass(frozen=True)
class Reservation:
    dial_id: int
    customer_id: int


@dataclass
class Ledger:
    """What the dial flow's guarantees are checked against."""

    started: int = 0
    reported: int = 0
    expired: int = 0
    refused_reports: int = 0
    """Reports for a dial that is unknown, already reported or expired: refused."""
    double_dials: int = 0
    """Customers reserved while a dial of theirs was in flight: must stay 0."""


class Backend(Protocol):
    def set_state(self, agent: int, state: AgentState, now: float) -> None: ...
    def calls_to_place(self, now: float, floor: Floor) -> int: ...
    def reserve(self, count: int, now: float) -> list[Reservation]: ...
    def report(self, dial_id: int, result: Result, now: float) -> bool: ...
    def expire(self, now: float) -> int:
        """Expire stale reservations; returns the dials still in flight."""
        ...


class _Recent:
    """Ended dials of the last RECENT_S seconds, with running sums."""

    def __init__(self) -> None:
        self._ended: deque[tuple[float, bool, float]] = deque()
        self.answered = 0
        self.ring_answered = 0.0
        self.ring_unanswered = 0.0

    def add(self, now: float, *, answered: bool, ring_s: float) -> None:
        self._ended.append((now, answered, ring_s))
        self._count(answered, ring_s, 1)
        while self._ended and self._ended[0][0] < now - RECENT_S:
            _, old_answered, old_ring = self._ended.popleft()
            self._count(old_answered, old_ring, -1)

    def _count(self, answered: bool, ring_s: float, sign: int) -> None:
        if answered:
            self.answered += sign
            self.ring_answered += sign * ring_s
        else:
            self.ring_unanswered += sign * ring_s

    def answer_rate(self) -> float | None:
        if len(self._ended) < MIN_RECENT_DIALS:
            return None
        return self.answered / len(self._ended)

    def mean_ring(self, *, answered: bool) -> float | None:
        count = self.answered if answered else len(self._ended) - self.answered
        if count <= 0:
            return None
        return (self.ring_answered if answered else self.ring_unanswered) / count


class InProcessBackend:
    """The dialer's state for one assignment, in memory."""

    def __init__(
        self, pacer: Pacer, *, customers: int, abandon_cap: float, wrap_up_s: float
    ) -> None:
        self.pacer = pacer
        self.abandon_cap = abandon_cap
        self.ledger = Ledger()
        self._wrap_up_s = wrap_up_s
        self._states: dict[int, tuple[AgentState, float]] = {}
        self._ready = 0
        self._wrapping: dict[int, float] = {}  # agent -> since
        self._call_started: dict[int, float] = {}
        self._mean_handle = 0.0
        self._free: deque[int] = deque(range(1, customers + 1))
        self._dialing: dict[int, tuple[int, float]] = {}  # dial id -> customer, started
        self._started: deque[tuple[float, int]] = deque()  # oldest first, reported ones too
        self._customers_dialing: set[int] = set()
        self._next_dial = 1
        self._recent = _Recent()
        self._window: deque[tuple[float, bool]] = deque()  # answered: time, abandoned
        self._abandoned_window = 0
        self.answered_day = 0
        self.abandoned_day = 0
        self.dials_day = 0

    def set_state(self, agent: int, state: AgentState, now: float) -> None:
        old = self._states.get(agent, ("signed_off", now))[0]
        self._ready += (state == "ready") - (old == "ready")
        if state == "ready" and old == "wrap_up" and agent in self._call_started:
            handle = now - self._call_started.pop(agent, now)
            weight = HANDLE_WEIGHT if self._mean_handle else 1.0
            self._mean_handle += weight * (handle - self._mean_handle)
        if state == "on_call":
            self._call_started[agent] = now
        self._states[agent] = (state, now)
        if state == "wrap_up":
            self._wrapping[agent] = now
        else:
            self._wrapping.pop(agent, None)

    def calls_to_place(self, now: float, floor: Floor) -> int:
        self.expire(now)
        return self.pacer.decide(self._pacing_input(now), floor)

    def reserve(self, count: int, now: float) -> list[Reservation]:
        out = []
        for _ in range(min(count, len(self._free))):
            customer = self._free.popleft()
            if customer in self._customers_dialing:
                self.ledger.double_dials += 1
            dial_id = self._next_dial
            self._next_dial += 1
            self._dialing[dial_id] = (customer, now)
            self._started.append((now, dial_id))
            self._customers_dialing.add(customer)
            out.append(Reservation(dial_id=dial_id, customer_id=customer))
        self.ledger.started += len(out)
        self.dials_day += len(out)
        return out

    def report(self, dial_id: int, result: Result, now: float) -> bool:
        dial = self._dialing.pop(dial_id, None)
        if dial is None:
            self.ledger.refused_reports += 1
            return False
        customer, started = dial
        self._customers_dialing.discard(customer)
        self.ledger.reported += 1
        answered = result != "abandoned" and result != "no_answer"
        if result == "no_answer":
            self._free.append(customer)  # tried again later, behind the others
        if result == "abandoned":
            self._free.appendleft(customer)  # a call-back first (issue 16 point 3)
        self._recent.add(now, answered=answered or result == "abandoned", ring_s=now - started)
        if answered or result == "abandoned":
            self._count_answer(now, abandoned=result == "abandoned")
        return True

    def _count_answer(self, now: float, *, abandoned: bool) -> None:
        self.answered_day += 1
        self.abandoned_day += abandoned
        self._window.append((now, abandoned))
        self._abandoned_window += abandoned

    def expire(self, now: float) -> int:
        while self._window and self._window[0][0] < now - WINDOW_S:
            self._abandoned_window -= self._window.popleft()[1]
        while self._started and self._started[0][0] < now - RESERVATION_TTL_S:
            dial = self._dialing.pop(self._started.popleft()[1], None)
            if dial is None:
                continue  # reported in time
            customer, _ = dial
            self._customers_dialing.discard(customer)
            self._free.append(customer)
            self.ledger.expired += 1
        return len(self._dialing)

    def _pacing_input(self, now: float) -> PacingInput:
        wrapping = [max(0.0, self._wrap_up_s - (now - since)) for since in self._wrapping.values()]
        return PacingInput(
            mode=self.pacer.mode,
            ready_agents=self._ready,
            wrapping_up=len(wrapping),
            wrap_up_remaining_s=tuple(wrapping),
            calls_in_flight=len(self._dialing),
            in_flight_ages_s=tuple(now - started for _, started in self._dialing.values()),
            answer_rate=self._recent.answer_rate(),
            mean_ring_answered_s=self._recent.mean_ring(answered=True),
            mean_ring_unanswered_s=self._recent.mean_ring(answered=False),
            mean_handle_s=self._mean_handle or None,
            abandoned_window=self._abandoned_window,
            answered_window=len(self._window),
            abandoned_day=self.abandoned_day,
            answered_day=self.answered_day,
            abandon_cap=self.abandon_cap,
        )
