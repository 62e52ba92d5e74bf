"""The Redis queue engine behind "get the next right customer".

A library: it is handed a `redis.asyncio.Redis` client and imports nothing else of nextcall,
neither FastAPI nor RQ. The API and the worker drive it; tests drive it against a real Redis.

It owns every Redis key nextcall writes (docs/decisions/019-queue-owns-its-keys.md): callers
use what `__all__` names, among them the modules `broadcast` (wake-ups of waiting agents),
`streams` (the live event streams) and `keys` (the prefix and the worker's coordination keys).
"""

from services.queue import broadcast, keys, streams
from services.queue.build import QueueBuild
from services.queue.dialing import DialFloor, Floor, Seat
from services.queue.engine import (
    AssignmentQueue,
    Claimed,
    ComingDue,
    DueFollowUp,
    Empty,
    ExpiringLease,
    Holder,
    Overdue,
    now_ms,
    transfer,
)
from services.queue.errors import HeldByOther, NotHolder, NotInQueue, QueueError
from services.queue.placement import (
    Entry,
    FreeByBucket,
    Placement,
    PlacementSource,
    SortValue,
    compute_placement,
    plain_places,
)

__all__ = [
    "AssignmentQueue",
    "Claimed",
    "ComingDue",
    "DialFloor",
    "DueFollowUp",
    "Empty",
    "Entry",
    "ExpiringLease",
    "Floor",
    "FreeByBucket",
    "HeldByOther",
    "Holder",
    "NotHolder",
    "NotInQueue",
    "Overdue",
    "Placement",
    "PlacementSource",
    "QueueBuild",
    "QueueError",
    "Seat",
    "SortValue",
    "broadcast",
    "compute_placement",
    "keys",
    "now_ms",
    "plain_places",
    "streams",
    "transfer",
]
