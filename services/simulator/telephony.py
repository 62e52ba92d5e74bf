"""The simulated telephony platform's numbers: answer rate, ring, talk and wrap-up times."""

import random
from dataclasses import dataclass

GRACE_S = 2.0
"""An answered call waits this long for an agent, then is abandoned.

Regulators count a call as abandoned when no agent greets the person within 2 seconds of
their greeting (UK Ofcom, US FTC TSR); the platform holds the answered call that long.
"""


@dataclass(frozen=True)
class TelephonyModel:
    answer_rate: float = 0.2
    ring_answered_s: tuple[float, float] = (4.0, 12.0)
    """Answered calls ring uniformly this long."""
    ring_unanswered_s: tuple[float, float] = (15.0, 30.0)
    """Calls nobody answers (no answer, busy, machine, failed) end after uniformly this long."""
    talk_mean_s: float = 90.0
    """Talk time is exponential with this mean."""
    wrap_up_s: float = 15.0
    lost_report_share: float = 0.002
    """Dials whose result the platform never reports (a lost webhook, a crash): they expire."""


@dataclass(frozen=True)
class Dial:
    """One dial's fate, drawn when it starts."""

    answered: bool
    ring_s: float
    lost: bool


class Telephony:
    """Draws every random number of one run from one seeded generator."""

    def __init__(self, model: TelephonyModel, *, seed: int, answers_apart: bool = False) -> None:
        """`answers_apart`: whether each dial is answered comes from a generator of its own,
        so the n-th dial's answer does not depend on when other numbers were drawn (a live
        run, whose order of events follows the server's clock, stays repeatable in that)."""
        self.model = model
        self._rng = random.Random(seed)
        self._answers = random.Random(seed * 1_000_003 + 1) if answers_apart else self._rng

    def dial(self) -> Dial:
        m, rng = self.model, self._rng
        answered = self._answers.random() < m.answer_rate
        low, high = m.ring_answered_s if answered else m.ring_unanswered_s
        lost = not answered and rng.random() < m.lost_report_share
        return Dial(answered=answered, ring_s=rng.uniform(low, high), lost=lost)

    def talk(self) -> float:
        return self._rng.expovariate(1.0 / self.model.talk_mean_s)

    def uniform(self, low: float, high: float) -> float:
        return self._rng.uniform(low, high)
