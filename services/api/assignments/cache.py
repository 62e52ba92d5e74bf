"""In-process copies of assignment settings and flows, refreshed every few seconds, so /next
reads no configuration from the database (rule 14)."""

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from datetime import time as dtime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.api.visibility import visible_to
from services.queue import AssignmentQueue
from shared.flows import FlowSpec
from shared.models import Assignment, Flow, Segment


@dataclass(frozen=True, slots=True)
class AssignmentConfig:
    assignment: Assignment
    flow: FlowSpec
    time_zones: tuple[str, ...]
    segment_ids: frozenset[int]

    @property
    def id(self) -> int:
        return self.assignment.id

    @property
    def tenant_id(self) -> int:
        return self.assignment.tenant_id

    def visible_to(self, user_id: int, now: datetime) -> bool:
        return visible_to(self.assignment, user_id, now)

    def open_time_zones(self, now: datetime) -> list[str] | None:
        """Zones whose local time is inside contact hours now; None when there are no hours."""
        a = self.assignment
        if not a.contact_hours_start or not a.contact_hours_end:
            return None
        start = dtime.fromisoformat(a.contact_hours_start)
        end = dtime.fromisoformat(a.contact_hours_end)
        return [tz for tz in self.time_zones if _inside(now, tz, start, end)]


def _inside(now: datetime, tz: str, start: dtime, end: dtime) -> bool:
    try:
        local = now.astimezone(ZoneInfo(tz)).time()
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # An unknown zone ("Europe" is a directory: OSError): never call at an unchecked time.
        return False
    if start <= end:
        return start <= local < end
    return local >= start or local < end  # a window across midnight


class AssignmentCache:
    def __init__(self, *, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[int, tuple[float, AssignmentConfig]] = {}
        # One reload per assignment at a time: when an entry expires under load, the requests
        # in flight wait for that one reload instead of each reading the database.
        self._locks: dict[int, asyncio.Lock] = {}

    def forget(self, assignment_id: int) -> None:
        self._entries.pop(assignment_id, None)

    async def get(
        self,
        assignment_id: int,
        *,
        tenant_id: int,
        sessionmaker: async_sessionmaker[AsyncSession],
        redis: Redis,
    ) -> AssignmentConfig | None:
        entry = self._entries.get(assignment_id)
        if entry is None or entry[0] < time.monotonic():
            lock = self._locks.setdefault(assignment_id, asyncio.Lock())
            async with lock:
                entry = self._entries.get(assignment_id)
                if entry is None or entry[0] < time.monotonic():
                    config = await self._load(assignment_id, sessionmaker=sessionmaker, redis=redis)
                    if config is None:
                        return None
                    entry = (time.monotonic() + self.ttl_s, config)
                    self._entries[assignment_id] = entry
        config = entry[1]
        return config if config.tenant_id == tenant_id else None

    async def _load(
        self,
        assignment_id: int,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        redis: Redis,
    ) -> AssignmentConfig | None:
        async with sessionmaker() as session:
            assignment = await session.get(Assignment, assignment_id)
            if assignment is None:
                return None
            flow = await session.get(Flow, assignment.flow_id)
            assert flow is not None  # foreign key
            spec = FlowSpec.model_validate({"states": flow.states, "outcomes": flow.outcomes})
            segment_ids = frozenset(
                await session.scalars(
                    select(Segment.id).where(Segment.assignment_id == assignment_id)
                )
            )
        zones = await AssignmentQueue(redis, assignment_id).time_zones()
        return AssignmentConfig(assignment, spec, zones, segment_ids)
