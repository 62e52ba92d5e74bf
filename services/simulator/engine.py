"""The discrete-event loop: agents and a telephony platform against a backend, in simulated time.

Time jumps from event to event (a heap of them), so an 8-hour day takes two or three seconds. The
backend is asked how many calls to start once a simulated second, as a dialer service polls.
Given `wait_until`, the loop waits for each event's time instead of jumping to it: the same
model played in real time against a running API (services/simulator/live.py).
"""

import heapq
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum

from services.simulator.backend import Backend
from services.simulator.pacers import Floor
from services.simulator.telephony import GRACE_S, Dial, Telephony

TICK_S = 1.0
"""How often the platform asks how many calls to start (VICIdial's auto-dialer loops as often)."""


@dataclass(frozen=True)
class Shift:
    agents: int = 50
    hours: float = 8.0
    sign_in_spread_s: float = 600.0
    """Agents sign in over the first 10 minutes and sign out over the last 10."""
    break_s: float = 900.0
    """Each agent signs out once for a 15-minute break, some time in the middle of the day."""

    @property
    def end_s(self) -> float:
        return self.hours * 3600

    @property
    def spread_s(self) -> float:
        """The sign-in and sign-out spread, at most an eighth of a short day."""
        return min(self.sign_in_spread_s, self.end_s / 8)

    @property
    def pause_s(self) -> float:
        """The break, at most an eighth of a short day."""
        return min(self.break_s, self.end_s / 8)


@dataclass
class Minute:
    """What happened in one simulated minute."""

    dials: int = 0
    answered: int = 0
    """Answered by a person: bridged or abandoned."""
    abandoned: int = 0
    bridged: int = 0
    signed_in_s: float = 0.0
    talk_s: float = 0.0
    wait_s: float = 0.0
    """Agents' time from ready to their next call, summed over the calls bridged this minute."""


class Kind(IntEnum):
    TICK = 0
    RING_END = 1
    GIVE_UP = 2
    TALK_END = 3
    WRAP_END = 4
    SIGN_IN = 5
    SIGN_OUT = 6


@dataclass
class _Agent:
    state: str = "off"  # off, ready, call, wrap
    ready_since: float = 0.0
    leaving: bool = False


@dataclass
class Simulation:
    backend: Backend
    telephony: Telephony
    shift: Shift
    minutes: list[Minute] = field(default_factory=list)
    wait_until: Callable[[float], None] | None = None
    """Called with each event's simulated time before it happens; none: time jumps."""

    def __post_init__(self) -> None:
        self._events: list[tuple[float, int, Kind, int]] = []
        self._seq = 0
        self._agents = [_Agent() for _ in range(self.shift.agents)]
        self._ready: deque[int] = deque()
        self._waiting: dict[int, float] = {}  # answered dials waiting for an agent
        self._fates: dict[int, Dial] = {}
        self._signed_in = 0
        self._on_call = 0
        self._now = 0.0
        self._dials = 0

    def run(self) -> list[Minute]:
        self._plan_shift()
        self._at(0.0, Kind.TICK, 0)
        handlers = {
            Kind.TICK: self._tick,
            Kind.RING_END: self._ring_end,
            Kind.GIVE_UP: self._give_up,
            Kind.TALK_END: self._talk_end,
            Kind.WRAP_END: self._wrap_end,
            Kind.SIGN_IN: self._sign_in,
            Kind.SIGN_OUT: self._sign_out,
        }
        while self._events:
            self._now, _, kind, arg = heapq.heappop(self._events)
            if self.wait_until is not None:
                self.wait_until(self._now)
            handlers[kind](arg)
        return self.minutes

    def _at(self, when: float, kind: Kind, arg: int) -> None:
        self._seq += 1
        heapq.heappush(self._events, (when, self._seq, kind, arg))

    def _minute(self) -> Minute:
        index = int(self._now // 60)
        while len(self.minutes) <= index:
            self.minutes.append(Minute())
        return self.minutes[index]

    def _plan_shift(self) -> None:
        s, t = self.shift, self.telephony
        for agent in range(s.agents):
            self._at(t.uniform(0, s.spread_s), Kind.SIGN_IN, agent)
            away = t.uniform(s.end_s * 0.2, s.end_s * 0.75)
            self._at(away, Kind.SIGN_OUT, agent)
            self._at(away + s.pause_s, Kind.SIGN_IN, agent)
            self._at(s.end_s - t.uniform(0, s.spread_s), Kind.SIGN_OUT, agent)

    def _tick(self, _: int) -> None:
        minute = self._minute()
        minute.signed_in_s += self._signed_in * TICK_S
        minute.talk_s += self._on_call * TICK_S
        if self._now >= self.shift.end_s:
            # The shift is over: no new dials; keep time going until the last one is reported
            # or has expired.
            if self.backend.expire(self._now):
                self._at(self._now + TICK_S, Kind.TICK, 0)
            return
        self._at(self._now + TICK_S, Kind.TICK, 0)
        floor = Floor(
            now=self._now,
            signed_in=self._signed_in,
            on_call=self._on_call,
            waiting_calls=len(self._waiting),
            dials_day=self._dials,
            day_end=self.shift.end_s,
        )
        count = self.backend.calls_to_place(self._now, floor)
        for reservation in self.backend.reserve(count, self._now):
            fate = self.telephony.dial()
            self._fates[reservation.dial_id] = fate
            self._at(self._now + fate.ring_s, Kind.RING_END, reservation.dial_id)
            minute.dials += 1
            self._dials += 1

    def _ring_end(self, dial_id: int) -> None:
        fate = self._fates.pop(dial_id)
        if not fate.answered:
            if not fate.lost:
                self.backend.report(dial_id, "no_answer", self._now)
            return
        if self._ready:
            self._bridge(dial_id, self._ready.popleft())
        else:
            self._waiting[dial_id] = self._now
            self._at(self._now + GRACE_S, Kind.GIVE_UP, dial_id)

    def _give_up(self, dial_id: int) -> None:
        if self._waiting.pop(dial_id, None) is None:
            return  # an agent took it in time
        self.backend.report(dial_id, "abandoned", self._now)
        minute = self._minute()
        minute.answered += 1
        minute.abandoned += 1

    def _bridge(self, dial_id: int, agent: int) -> None:
        a = self._agents[agent]
        minute = self._minute()
        minute.answered += 1
        minute.bridged += 1
        minute.wait_s += self._now - a.ready_since
        a.state = "call"
        self._on_call += 1
        self.backend.set_state(agent, "on_call", self._now)
        self.backend.report(dial_id, "answered", self._now)
        self._at(self._now + self.telephony.talk(), Kind.TALK_END, agent)

    def _talk_end(self, agent: int) -> None:
        a = self._agents[agent]
        a.state = "wrap"
        self._on_call -= 1
        # An agent who asked to sign out wraps up paused: the backend does not wait for them.
        self.backend.set_state(agent, "paused" if a.leaving else "wrap_up", self._now)
        self._at(self._now + self.telephony.model.wrap_up_s, Kind.WRAP_END, agent)

    def _wrap_end(self, agent: int) -> None:
        a = self._agents[agent]
        if a.leaving:
            self._off(agent)
        else:
            self._become_ready(agent)

    def _become_ready(self, agent: int) -> None:
        a = self._agents[agent]
        a.state, a.ready_since = "ready", self._now
        self.backend.set_state(agent, "ready", self._now)
        if self._waiting:
            dial_id = next(iter(self._waiting))
            del self._waiting[dial_id]
            self._bridge(dial_id, agent)
        else:
            self._ready.append(agent)

    def _sign_in(self, agent: int) -> None:
        a = self._agents[agent]
        if a.state != "off":
            a.leaving = False  # back before their last call ended: they simply stay
            return
        self._signed_in += 1
        self._become_ready(agent)

    def _sign_out(self, agent: int) -> None:
        a = self._agents[agent]
        if a.state == "ready":
            self._ready.remove(agent)
            self._off(agent)
        elif a.state != "off":
            a.leaving = True  # after this call and its wrap-up

    def _off(self, agent: int) -> None:
        a = self._agents[agent]
        a.state, a.leaving = "off", False
        self._signed_in -= 1
        self.backend.set_state(agent, "signed_off", self._now)
