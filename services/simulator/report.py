"""The figures of one simulated day: abandon rate, occupancy, wait between calls, calls/hour."""

from collections.abc import Sequence
from dataclasses import dataclass

from services.simulator.engine import Minute

WINDOW_MIN = 15


@dataclass(frozen=True)
class Summary:
    abandon_rate: float
    """Abandoned / answered over the day."""
    worst_window: float
    """The highest abandoned / answered of any 15 minutes (at each minute) after the first 15."""
    occupancy: float
    """Talking / signed-in time."""
    wait_s: float
    """Mean time from an agent's ready to their next call."""
    calls_per_agent_hour: float
    dials: int
    answered: int
    abandoned: int


@dataclass(frozen=True)
class Window:
    """One 15-minute slice of the day, for the chart."""

    start_min: int
    abandon_rate: float
    occupancy: float
    wait_s: float
    calls_per_agent_hour: float


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def summarise(minutes: Sequence[Minute]) -> Summary:
    answered = sum(m.answered for m in minutes)
    abandoned = sum(m.abandoned for m in minutes)
    bridged = sum(m.bridged for m in minutes)
    signed_in = sum(m.signed_in_s for m in minutes)
    return Summary(
        abandon_rate=_ratio(abandoned, answered),
        worst_window=worst_window(minutes),
        occupancy=_ratio(sum(m.talk_s for m in minutes), signed_in),
        wait_s=_ratio(sum(m.wait_s for m in minutes), bridged),
        calls_per_agent_hour=_ratio(bridged, signed_in / 3600),
        dials=sum(m.dials for m in minutes),
        answered=answered,
        abandoned=abandoned,
    )


def worst_window(minutes: Sequence[Minute]) -> float:
    """The worst rolling 15-minute abandon rate, windows starting after the first 15 minutes."""
    worst = 0.0
    for start in range(WINDOW_MIN, len(minutes) - WINDOW_MIN + 1):
        span = minutes[start : start + WINDOW_MIN]
        worst = max(worst, _ratio(sum(m.abandoned for m in span), sum(m.answered for m in span)))
    return worst


def windows(minutes: Sequence[Minute]) -> list[Window]:
    """The day in consecutive 15-minute slices."""
    out = []
    for start in range(0, len(minutes), WINDOW_MIN):
        span = minutes[start : start + WINDOW_MIN]
        signed_in = sum(m.signed_in_s for m in span)
        if not signed_in:
            continue
        bridged = sum(m.bridged for m in span)
        out.append(
            Window(
                start_min=start,
                abandon_rate=_ratio(sum(m.abandoned for m in span), sum(m.answered for m in span)),
                occupancy=_ratio(sum(m.talk_s for m in span), signed_in),
                wait_s=_ratio(sum(m.wait_s for m in span), bridged),
                calls_per_agent_hour=_ratio(bridged, signed_in / 3600),
            )
        )
    return out


def text(name: str, summary: Summary) -> str:
    """One line per run, as `nextcall simulate` prints it."""
    s = summary
    return (
        f"{name:<22} abandon {s.abandon_rate:6.2%} (worst 15 min {s.worst_window:6.2%})"
        f"  occupancy {s.occupancy:6.1%}  wait {s.wait_s:5.1f} s"
        f"  calls/agent-hour {s.calls_per_agent_hour:5.1f}  dials {s.dials}"
    )
