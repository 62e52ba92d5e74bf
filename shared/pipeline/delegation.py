"""Who manages a request now: its relationship manager, or whoever they delegated to for an
absence (rule 31). Pure: resolved from the delegations at a given time, wherever a manager is
read or told, so a delegation starts and ends by itself with no job to flip it
(docs/decisions/028-care-pipeline.md).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Window:
    """A delegation as the rules see it: from whom, to whom, when."""

    from_user_id: int
    to_user_id: int
    starts_at: datetime
    ends_at: datetime

    def active_at(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def overlaps(self, other: "Window") -> bool:
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at


def active_at(windows: Iterable[Window], now: datetime) -> dict[int, int]:
    """Absent user -> stand-in, for the delegations active at `now`. The store refuses
    overlapping delegations of one user, so each user has at most one."""
    return {w.from_user_id: w.to_user_id for w in windows if w.active_at(now)}


def acting_manager(manager_id: int, stand_ins: Mapping[int, int]) -> int:
    """The manager, or their stand-in, or the stand-in's stand-in (both absent), and so on.
    A circle (two colleagues covering for each other while both are away) stops at the last
    person before it closes: someone must hold the request."""
    seen = {manager_id}
    current = manager_id
    while current in stand_ins:
        following = stand_ins[current]
        if following in seen:
            break
        seen.add(following)
        current = following
    return current


def acting_for(user_id: int, stand_ins: Mapping[int, int]) -> set[int]:
    """The managers whose requests `user_id` handles now: themselves unless away, and everyone
    whose chain of stand-ins ends with them."""
    candidates = {user_id, *stand_ins}
    return {m for m in candidates if acting_manager(m, stand_ins) == user_id}
