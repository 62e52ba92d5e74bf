"""Figures the dashboard recomputes at most every few seconds, shared by its viewers.

Every open dashboard asks for fresh figures each second; one API process computes each
figure once per its time to live, whoever asks. One per application (on Resources), so two
apps in one process (tests) never see each other's figures.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

# Redis figures (queue by state, leases, agents): fresh for every tick of a live page.
LIVE_S = 0.25
# Database figures (follow-ups, corrections, outcomes): a few seconds behind at most.
DATABASE_S = 5.0
# Customers outside contact hours group a whole assignment by time zone: the costliest figure,
# and contact hours move by the minute, not the second.
SLOW_S = 30.0
# Entries kept at most; beyond it the memo starts afresh (a tenant has few assignments).
MAX_ENTRIES = 10_000


class Memo:
    def __init__(self) -> None:
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._locks: dict[Hashable, asyncio.Lock] = {}

    async def get(self, key: Hashable, ttl_s: float, compute: Callable[[], Awaitable[T]]) -> T:
        """The value under `key` if younger than `ttl_s`, else computed once (concurrent
        callers wait for that one computation)."""
        entry = self._entries.get(key)
        if entry is not None and entry[0] > time.monotonic():
            found: T = entry[1]
            return found
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > time.monotonic():
                again: T = entry[1]
                return again
            value = await compute()
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
                self._locks = {key: lock}
            self._entries[key] = (time.monotonic() + ttl_s, value)
            return value
