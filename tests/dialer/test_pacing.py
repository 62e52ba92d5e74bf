"""The pacing rule (shared/dialer/pacing.py): pure, so every case is one call."""

import math
from dataclasses import replace

import pytest

from shared.dialer.pacing import (
    AIM_SHARE,
    MAX_BOOST,
    PacingInput,
    allowed_abandon_share,
    calls_to_place,
    expected_overflow,
)
from tests.dialer.states import pacing_input


def state(**overrides: object) -> PacingInput:
    return pacing_input(**overrides)


def _binomial_overflow(trials: int, p: float, agents: int) -> float:
    return sum(
        (k - agents) * math.comb(trials, k) * p**k * (1 - p) ** (trials - k)
        for k in range(agents + 1, trials + 1)
    )


class TestNoAgentNoCall:
    @pytest.mark.parametrize("mode", ["progressive", "predictive"])
    def test_none_ready_none_finishing(self, mode: str) -> None:
        busy = state(mode=mode, ready_agents=0, wrapping_up=3, wrap_up_remaining_s=(14, 12, 9))
        assert calls_to_place(busy) == 0

    def test_an_agent_finishing_wrap_up_before_an_answer_counts(self) -> None:
        soon = state(ready_agents=0, wrapping_up=2, wrap_up_remaining_s=(1.0, 14.0))
        assert calls_to_place(soon) >= 1

    def test_without_ring_times_only_ready_agents_count(self) -> None:
        unknown = state(ready_agents=0, wrapping_up=1, wrap_up_remaining_s=(0.5,))
        assert calls_to_place(replace(unknown, mean_ring_answered_s=None)) == 0


class TestProgressive:
    def test_one_call_per_ready_agent_not_yet_dialed_for(self) -> None:
        assert calls_to_place(state(mode="progressive", calls_in_flight=4)) == 6
        assert calls_to_place(state(mode="progressive", calls_in_flight=15)) == 0

    def test_predictive_without_history_starts_progressively(self) -> None:
        assert calls_to_place(state(answer_rate=None, calls_in_flight=3)) == 7


class TestPredictive:
    def test_more_calls_at_lower_answer_rates(self) -> None:
        low, mid, high = (calls_to_place(state(answer_rate=p)) for p in (0.15, 0.2, 0.4))
        assert low > mid > high > 10

    def test_young_calls_in_flight_count_more_than_calls_ringing_out(self) -> None:
        young = state(calls_in_flight=30, in_flight_ages_s=(1.0,) * 30)
        old = state(calls_in_flight=30, in_flight_ages_s=(20.0,) * 30)
        assert calls_to_place(young) < calls_to_place(old)
        # Ringing past twice the answered ring time, they are not expected to be answered:
        # they only widen the spread the rule allows for.
        assert calls_to_place(state()) - 1 <= calls_to_place(old) <= calls_to_place(state())

    def test_a_window_over_the_cap_falls_back_to_progressive(self) -> None:
        over = state(abandoned_window=14, answered_window=400, calls_in_flight=3)
        assert calls_to_place(over) == 7

    def test_a_day_over_the_cap_falls_back_to_progressive(self) -> None:
        over = state(abandoned_day=130, answered_day=4000)
        assert calls_to_place(over) == 10

    def test_a_cap_of_zero_dials_progressively(self) -> None:
        assert calls_to_place(state(abandon_cap=0.0, calls_in_flight=4)) == 6

    def test_the_allowance_follows_the_window(self) -> None:
        cap = 0.03
        aim = cap * AIM_SHARE
        at_aim = state(abandoned_window=round(aim * 10_000), answered_window=10_000)
        assert allowed_abandon_share(at_aim) == pytest.approx(aim, rel=0.02)
        clean = state(abandoned_window=0, answered_window=10_000, answered_day=50_000)
        assert allowed_abandon_share(clean) == pytest.approx(aim * MAX_BOOST)
        assert allowed_abandon_share(state(abandoned_window=12, answered_window=400)) < aim


class TestExpectedOverflow:
    @pytest.mark.parametrize(
        ("trials", "p", "agents"), [(10, 0.5, 3), (40, 0.2, 5), (120, 0.15, 20), (3, 0.9, 5)]
    )
    def test_exact_for_small_binomials(self, trials: int, p: float, agents: int) -> None:
        want = _binomial_overflow(trials, p, agents)
        assert expected_overflow(trials, trials * p, agents) == pytest.approx(want, abs=1e-9)

    def test_normal_for_binomials_too_large_to_sum(self) -> None:
        trials, p, agents = 20_000, 0.05, 1_000
        got = expected_overflow(trials, trials * p, agents)
        sd = math.sqrt(trials * p * (1 - p))
        assert got == pytest.approx(sd / math.sqrt(2 * math.pi), rel=0.01)  # at the mean
