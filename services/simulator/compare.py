"""`nextcall simulate`: days for each answer rate, pacer and seed; a report and a chart."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean

from services.simulator.chart import draw
from services.simulator.engine import Shift
from services.simulator.report import Summary, Window, summarise, text, windows
from services.simulator.run import Day, simulate_day


@dataclass(frozen=True)
class Plan:
    answer_rates: Sequence[float]
    pacers: Sequence[str]
    seeds: Sequence[int]
    shift: Shift
    abandon_cap: float = 0.03
    chart: Path | None = None


def combine(summaries: Sequence[Summary]) -> Summary:
    """Several seeds' days as one line: means, and the worst window of any of them."""
    return Summary(
        abandon_rate=fmean(s.abandon_rate for s in summaries),
        worst_window=max(s.worst_window for s in summaries),
        occupancy=fmean(s.occupancy for s in summaries),
        wait_s=fmean(s.wait_s for s in summaries),
        calls_per_agent_hour=fmean(s.calls_per_agent_hour for s in summaries),
        dials=round(fmean(s.dials for s in summaries)),
        answered=round(fmean(s.answered for s in summaries)),
        abandoned=round(fmean(s.abandoned for s in summaries)),
    )


def compare(plan: Plan, *, say: Callable[[str], None] = print) -> dict[tuple[float, str], Summary]:
    """Runs the plan, says one line per answer rate and pacer, draws the first seed's days."""
    s = plan.shift
    say(
        f"{s.agents} agents, {s.hours:g} h, abandon cap {plan.abandon_cap:.1%},"
        f" seeds {', '.join(map(str, plan.seeds))} (means; worst window of any seed)"
    )
    out: dict[tuple[float, str], Summary] = {}
    drawn: dict[float, dict[str, list[Window]]] = {}
    for rate in plan.answer_rates:
        say(f"answer rate {rate:.0%}")
        for name in plan.pacers:
            days = [_day(plan, name, rate, seed) for seed in plan.seeds]
            out[rate, name] = combine([summarise(d.minutes) for d in days])
            shift_minutes = days[0].minutes[: round(plan.shift.end_s / 60)]
            drawn.setdefault(rate, {})[name] = windows(shift_minutes)
            say("  " + text(name, out[rate, name]))
    if plan.chart is not None:
        draw(drawn, cap=plan.abandon_cap, path=plan.chart)
        say(f"chart: {plan.chart}")
    return out


def _day(plan: Plan, name: str, rate: float, seed: int) -> Day:
    return simulate_day(
        name, answer_rate=rate, seed=seed, shift=plan.shift, abandon_cap=plan.abandon_cap
    )
