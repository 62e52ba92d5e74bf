"""Repeats into one figure: the median, and how wide the runs spread (min and max)."""

import statistics
from collections.abc import Sequence
from typing import Any, TypeVar

T = TypeVar("T")
# Kept to 4 decimals: a ratio rounded to 3 could pass its target by rounding alone (0.9496).
DIGITS = 4


def spread(values: Sequence[float | None]) -> dict[str, Any]:
    """{"median", "min", "max", "runs"} of the values that were measured (None is not)."""
    got = [v for v in values if v is not None]
    if not got:
        return {"median": None, "min": None, "max": None, "runs": []}
    return {
        "median": round(statistics.median(got), DIGITS),
        "min": round(min(got), DIGITS),
        "max": round(max(got), DIGITS),
        "runs": [None if v is None else round(v, DIGITS) for v in values],
    }


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, DIGITS) if a is not None and b else None


def rotated(items: list[T], by: int) -> list[T]:
    """The order of servers in one repeat: each repeat starts with another one, so drift on
    a shared machine falls on all alike."""
    by %= max(1, len(items))
    return items[by:] + items[:by]


def pct(figure: dict[str, Any], key: str, which: str) -> float | None:
    """A latency percentile of a slice's figure ("next_ms", "p99"), None if not measured."""
    value = figure.get(key, {}).get(which)
    return float(value) if value is not None else None
