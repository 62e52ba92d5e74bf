"""VICIdial's adaptive dial level as the comparison models it (services/simulator/pacers.py)."""

from dataclasses import replace

import pytest

from services.simulator.backend import InProcessBackend
from services.simulator.pacers import Floor, Vicidial, VicidialMethod
from shared.dialer.pacing import PacingInput
from tests.dialer.states import pacing_input

IDLE = pacing_input(answered_window=100, answered_day=100)


def _floor(now: float, **overrides: float) -> Floor:
    base = Floor(now=now, signed_in=20, on_call=10, waiting_calls=0, dials_day=500, day_end=28800)
    return replace(base, **overrides)  # type: ignore[arg-type]


def _run(method: VicidialMethod, state: PacingInput, seconds: int) -> Vicidial:
    pacer = Vicidial(method)
    for now in range(seconds):
        pacer.decide(state, _floor(now))
    return pacer


class TestVicidial:
    def test_waiting_agents_raise_the_level_up_to_its_maximum(self) -> None:
        pacer = _run("ADAPT_TAPERED", IDLE, 16)
        assert 1.0 < pacer.level < 3.0
        assert _run("ADAPT_TAPERED", IDLE, 600).level == 3.0

    def test_lines_are_the_level_times_ready_and_talking_agents(self) -> None:
        pacer = _run("ADAPT_AVERAGE", IDLE, 600)
        placed = pacer.decide(replace(IDLE, calls_in_flight=5), _floor(601))
        assert placed == round(3.0 * 20) - 5 - 10

    def test_over_the_day_limit_hard_limit_dials_one_to_one(self) -> None:
        over = replace(IDLE, abandoned_day=5, answered_day=100)
        assert _run("ADAPT_HARD_LIMIT", over, 16).level == 1.0
        # 1.5 (half the agents waiting) x 8 hours left / 10: tapered, not stopped.
        assert _run("ADAPT_TAPERED", over, 16).level == pytest.approx(1.5 * 0.8, abs=0.001)
        assert _run("ADAPT_AVERAGE", over, 16).level == 1.0  # 1.5 halved, floored at 1


class TestInProcessBackendLedger:
    def test_a_customer_in_flight_is_not_reserved_again(self) -> None:
        backend = InProcessBackend(
            Vicidial("ADAPT_TAPERED"), customers=2, abandon_cap=0.03, wrap_up_s=15
        )
        first = backend.reserve(5, now=0)
        assert sorted(r.customer_id for r in first) == [1, 2]
        assert backend.reserve(1, now=1) == []
        assert backend.report(first[0].dial_id, "no_answer", now=20)
        again = backend.reserve(5, now=21)
        assert [r.customer_id for r in again] == [first[0].customer_id]
        assert backend.ledger.double_dials == 0

    def test_unreported_dials_expire_and_late_reports_are_refused(self) -> None:
        backend = InProcessBackend(
            Vicidial("ADAPT_TAPERED"), customers=3, abandon_cap=0.03, wrap_up_s=15
        )
        dial = backend.reserve(1, now=0)[0]
        assert backend.expire(now=30) == 1
        assert backend.expire(now=61) == 0
        assert not backend.report(dial.dial_id, "no_answer", now=62)
        assert (backend.ledger.expired, backend.ledger.refused_reports) == (1, 1)


class TestVicidialReadyOnly:
    def test_lines_per_ready_agent_bridged_calls_apart(self) -> None:
        pacer = Vicidial("ADAPT_TAPERED", max_level=4.0, available_only=True)
        for now in range(600):
            pacer.decide(IDLE, _floor(now))
        assert pacer.level == 4.0
        placed = pacer.decide(replace(IDLE, calls_in_flight=5), _floor(601, waiting_calls=1))
        assert placed == 4 * 10 - 5 - 1
