"""How many calls to start now for an assignment (issue 16 point 4, docs/pacing.md).

Pure and cheap: the dialer boundary asks on every pacing request. One decision looks at the
agents who can take a call within the time a call needs to be answered, and at the calls
that may still be answered, and adds calls while the expected share of answered calls that
find no agent stays under an allowance. The allowance comes from the abandon cap and from how
much of it the last 15 minutes and the day have used, so a bad window slows dialing at once and
a clean one lets it run.
"""

import math
from dataclasses import dataclass
from typing import Literal

Mode = Literal["progressive", "predictive"]

AIM_SHARE = 0.25
"""The expected abandon rate one decision may plan for, as a share of the cap.

Well below the cap, for the noise of a 15-minute window and what the count leaves out (when in
the ring an answer comes): at 50 agents about 400 calls are answered per window, so a planned
0.75 % is 3 expected abandons against the 12 the cap allows. Simulated days at 15-40 % answer
rates keep every window under 2.7 % with agents talking 77-78 % of the time (docs/pacing.md).
"""
MAX_BOOST = 1.3
"""How far above AIM_SHARE a decision may go while the window and the day are well under it."""
PRIOR_ANSWERED = 60.0
"""Answered calls' weight of the prior (a rate at the aim) in the window and day rates.

The first minutes of a window or a day hold a handful of calls: one abandon in ten answers is
no reason to stop, and none in ten is no reason to race.
"""
GREETING_GRACE_S = 2.0
"""An answered call is abandoned if no agent greets the person within 2 seconds (UK Ofcom,
US FTC TSR); an agent ready within that time of an answer takes it."""
MIN_ANSWER_RATE = 0.02
"""Answer rates below this are read as this (a list answering less is not worth pacing for)."""
MAX_CALLS_PER_AGENT = 12
"""Never more lines per agent who can take a call than this (trunks are finite)."""


@dataclass(frozen=True)
class PacingInput:
    mode: Mode
    ready_agents: int
    """Agents in state ready and not yet given a call."""
    wrapping_up: int
    """Agents in wrap-up now."""
    wrap_up_remaining_s: tuple[float, ...]
    """Seconds each wrapping-up agent has left (an estimate)."""
    calls_in_flight: int
    """Dials started and not yet reported."""
    answer_rate: float | None
    """Answered / dialed over the recent window; None: too few dials to say."""
    mean_ring_answered_s: float | None
    """Ring time of answered calls, recent."""
    mean_handle_s: float | None
    """Talk + wrap-up, recent."""
    abandoned_window: int
    """Abandoned calls in the last 15 minutes."""
    answered_window: int
    """Answered calls (abandoned ones included) in the last 15 minutes."""
    abandoned_day: int
    answered_day: int
    abandon_cap: float
    """The assignment's cap, e.g. 0.03: abandoned / answered."""
    mean_ring_unanswered_s: float | None = None
    """Ring time of dials that ended unanswered, recent: how long a doomed call stays in flight.

    Used when the ages of the dials in flight are not given: see `_in_flight_answers`.
    """
    in_flight_ages_s: tuple[float, ...] = ()
    """Seconds since each dial in flight started, when the dialer knows them.

    A dial that has rung longer than answered calls ring will not be answered: at a low answer
    rate most dials in flight are ringing out, and counting them at the full answer rate would
    keep agents waiting.
    """


def calls_to_place(state: PacingInput) -> int:
    """The number of dials to start now; 0 when no agent is ready or about to be."""
    agents = state.ready_agents + _finishing(state)
    if agents <= 0:
        return 0
    progressive = max(0, state.ready_agents - state.calls_in_flight)
    if state.mode == "progressive" or state.answer_rate is None:
        return progressive
    p = min(1.0, max(state.answer_rate, MIN_ANSWER_RATE))
    allowance = allowed_abandon_share(state)
    return max(progressive, _most_calls(state, agents=agents, p=p, allowance=allowance))


def allowed_abandon_share(state: PacingInput) -> float:
    """The expected abandoned / answered this decision may plan for (see the module's doc)."""
    cap = state.abandon_cap
    if cap <= 0:
        return 0.0  # no abandon allowed: nothing but progressive dialing plans for none
    aim = cap * AIM_SHARE
    factor = min(
        _room(state.abandoned_window, state.answered_window, cap=cap, aim=aim),
        _room(state.abandoned_day, state.answered_day, cap=cap, aim=aim),
    )
    return aim * factor


def _room(abandoned: int, answered: int, *, cap: float, aim: float) -> float:
    """1 at the aim, 0 at the cap and above, up to MAX_BOOST well below the aim.

    The rate is shrunk towards the aim by PRIOR_ANSWERED answers' worth of it.
    """
    rate = (abandoned + aim * PRIOR_ANSWERED) / (answered + PRIOR_ANSWERED)
    return min(MAX_BOOST, max(0.0, (cap - rate) / (cap - aim)))


def _finishing(state: PacingInput) -> int:
    """Wrapping-up agents who will be ready for the earliest answer of a call started now.

    Answered calls ring from about half their mean (4-12 s measured, mean 8), and a person
    who answers may wait GREETING_GRACE_S for an agent.
    """
    if not state.mean_ring_answered_s:
        return 0
    horizon = state.mean_ring_answered_s / 2 + GREETING_GRACE_S
    return sum(1 for left in state.wrap_up_remaining_s[: state.wrapping_up] if left <= horizon)


def _in_flight_answers(state: PacingInput, p: float) -> float:
    """How many of the dials in flight are still expected to be answered.

    With their ages: a dial that has rung `a` seconds is still to be answered with
    p·S(a) / (p·S(a) + 1 - p), where S(a) = 1 - a / (2·ra) is the share of answered calls that
    ring longer than `a` if answered calls' ring times spread evenly over [0, 2·ra] (4-12 s
    measured: mean 8, none past 16), and unanswered dials are taken to still ring.
    Without ages, in the steady state: a dial found in flight is drawn by its ringing time, so
    it is one to be answered with p·ra / (p·ra + (1-p)·ru). Without ring times: p.
    """
    ra, ru, n = state.mean_ring_answered_s, state.mean_ring_unanswered_s, state.calls_in_flight
    if not ra:
        return n * p
    ages = state.in_flight_ages_s
    if len(ages) == n:
        total = 0.0
        for age in ages:
            survive = 1.0 - age / (2 * ra)
            if survive > 0:
                total += p * survive / (p * survive + 1 - p)
        return total
    if not ru:
        return n * p
    return n * p * ra / (p * ra + (1 - p) * ru)


def _most_calls(state: PacingInput, *, agents: int, p: float, allowance: float) -> int:
    """The largest n whose expected overflow stays within the allowance (binary search)."""
    in_flight_answers = _in_flight_answers(state, p)

    def fits(n: int) -> bool:
        # Every dial in flight is a trial, those ringing out too: a binomial of more trials
        # with the same mean has the larger variance, and the answers' timing adds variance
        # the count alone does not show (docs/pacing.md, "Why it stays under the cap").
        answers = in_flight_answers + n * p
        if answers <= 0:
            return True
        return expected_overflow(state.calls_in_flight + n, answers, agents) <= allowance * answers

    low, high = 0, MAX_CALLS_PER_AGENT * agents
    if fits(high):
        return high
    while high - low > 1:
        middle = (low + high) // 2
        if fits(middle):
            low = middle
        else:
            high = middle
    return low


def expected_overflow(trials: int, mean: float, agents: int) -> float:
    """E[(X - agents)+] for X binomial with `trials` and the given mean: answers with no agent.

    E[(X-a)+] = E[X] - a + E[(a-X)+], and the last sum has only `agents` terms. A binomial
    whose first term underflows is so large that its normal approximation is exact enough.
    """
    if trials <= agents:
        return 0.0
    p = min(1.0, mean / trials)
    if p >= 1.0:
        return float(trials - agents)
    log_first = trials * math.log1p(-p)
    if log_first < -700:
        return _normal_overflow(mean, math.sqrt(mean * (1 - p)), agents)
    term = math.exp(log_first)
    ratio = p / (1 - p)
    short = 0.0
    for k in range(agents):
        short += (agents - k) * term
        term *= (trials - k) / (k + 1) * ratio
    return max(0.0, mean - agents + short)


def _normal_overflow(mean: float, sd: float, agents: int) -> float:
    """E[(X - a)+] for X normal: sd·φ(z) + (mean - a)·(1 - Φ(z)), z = (a - mean) / sd."""
    if sd <= 0:
        return max(0.0, mean - agents)
    z = (agents - mean) / sd
    density = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    tail = 0.5 * math.erfc(z / math.sqrt(2))
    return sd * density + (mean - agents) * tail
