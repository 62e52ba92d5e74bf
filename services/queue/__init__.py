"""The Redis queue engine behind "get the next right customer".

A library: it is handed a `redis.asyncio.Redis` client and imports nothing else of nextcall,
neither FastAPI nor RQ. The API and the worker drive it; tests drive it against a real Redis.
"""

from services.queue.engine import AssignmentQueue, Claimed, Empty, Holder, transfer
from services.queue.errors import HeldByOther, NotHolder, NotInQueue, QueueError
from services.queue.placement import Placement, PlacementSource, SortValue, compute_placement

__all__ = [
    "AssignmentQueue",
    "Claimed",
    "Empty",
    "HeldByOther",
    "Holder",
    "NotHolder",
    "NotInQueue",
    "Placement",
    "PlacementSource",
    "QueueError",
    "SortValue",
    "compute_placement",
    "transfer",
]
