"""One simulated day: build the backend, the platform and the shift, run, summarise."""

from dataclasses import dataclass

from services.simulator.backend import InProcessBackend, Ledger
from services.simulator.engine import Minute, Shift, Simulation
from services.simulator.pacers import VICIDIAL_METHODS, Ours, Pacer, Vicidial
from services.simulator.telephony import Telephony, TelephonyModel

CUSTOMERS = 40_000
"""More than a day's dials reach at the lowest answer rate before they come round again."""

PACERS = ("ours", "progressive", *VICIDIAL_METHODS)
"""A VICIdial method may end in +ready (available_only_ratio_tally=Y) and @LEVEL (its maximum
adapt dial level, 3.0 by default): ADAPT_TAPERED+ready@6."""


def pacer(name: str) -> Pacer:
    if name == "ours":
        return Ours("predictive")
    if name == "progressive":
        return Ours("progressive")
    method, _, level = name.partition("@")
    method, ready_only = method.removesuffix("+ready"), method.endswith("+ready")
    for known in VICIDIAL_METHODS:
        if method == known:
            try:
                max_level = float(level or 3.0)
            except ValueError:
                break
            if max_level >= 1:
                return Vicidial(known, max_level=max_level, available_only=ready_only)
    raise ValueError(f"unknown pacer {name!r}; one of {', '.join(PACERS)}")


@dataclass(frozen=True)
class Day:
    minutes: list[Minute]
    ledger: Ledger


def simulate_day(
    name: str,
    *,
    answer_rate: float,
    seed: int,
    shift: Shift | None = None,
    abandon_cap: float = 0.03,
) -> Day:
    model = TelephonyModel(answer_rate=answer_rate)
    backend = InProcessBackend(
        pacer(name), customers=CUSTOMERS, abandon_cap=abandon_cap, wrap_up_s=model.wrap_up_s
    )
    simulation = Simulation(
        backend=backend, telephony=Telephony(model, seed=seed), shift=shift or Shift()
    )
    return Day(minutes=simulation.run(), ledger=backend.ledger)
