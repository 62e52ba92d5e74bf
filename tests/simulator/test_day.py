"""Simulated 8-hour days with 50 agents (issue 16, "Tests and figures"), seeded.

Each day takes two or three seconds: the events of a day, not its hours.
"""

import pytest

from services.simulator.engine import Shift
from services.simulator.report import summarise, worst_window
from services.simulator.run import Day, simulate_day

CAP = 0.03
# One seed per answer rate, different ones: docs/pacing.md gives three seeds of each.
DAYS = [(0.15, 11), (0.2, 12), (0.4, 13)]


def _guarantees_hold(day: Day) -> None:
    ledger = day.ledger
    assert ledger.double_dials == 0
    # Every dial ends in a result or an expiry; the platform loses a few reports on purpose.
    assert ledger.started == ledger.reported + ledger.expired
    assert ledger.expired > 0
    assert ledger.refused_reports == 0


class TestOurPacing:
    @pytest.mark.parametrize(("answer_rate", "seed"), DAYS)
    def test_under_the_cap_in_every_window_and_agents_talking(
        self, answer_rate: float, seed: int
    ) -> None:
        day = simulate_day("ours", answer_rate=answer_rate, seed=seed, abandon_cap=CAP)
        summary = summarise(day.minutes)
        assert worst_window(day.minutes) < CAP
        assert summary.abandon_rate < CAP
        assert summary.occupancy >= 0.70
        _guarantees_hold(day)


class TestProgressive:
    @pytest.mark.parametrize(("answer_rate", "expected"), [(0.15, 0.37), (0.2, 0.45), (0.4, 0.61)])
    def test_the_issues_figures(self, answer_rate: float, expected: float) -> None:
        # Progressive occupancy does not drift over a day: two hours measure it.
        shift = Shift(hours=2)
        day = simulate_day("progressive", answer_rate=answer_rate, seed=21, shift=shift)
        assert summarise(day.minutes).occupancy == pytest.approx(expected, abs=0.025)
        _guarantees_hold(day)


class TestShape:
    def test_no_agents_no_calls(self) -> None:
        day = simulate_day("ours", answer_rate=0.2, seed=1, shift=Shift(agents=0, hours=1))
        assert sum(m.dials for m in day.minutes) == 0
        assert day.ledger.started == 0

    def test_a_seed_gives_the_same_day(self) -> None:
        short = Shift(agents=10, hours=0.5)
        first, again, other = (
            simulate_day("ours", answer_rate=0.3, seed=seed, shift=short) for seed in (5, 5, 6)
        )
        assert first.minutes == again.minutes
        assert first.minutes != other.minutes
