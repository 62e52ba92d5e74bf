"""Whether a zone may be called at an instant, and until when that holds.

`status` answers both at once: the queue asks for every zone on each claim, so each answer
carries the moment it changes and is kept until then (`ZoneClock`).
"""

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.calling.calendar import closed_on
from shared.calling.rules import CallingRules, clock_time
from shared.calling.zones import parse_zone

# How far ahead the next opening is looked for: past a year and a week every weekly schedule
# with a window has come round, holidays included.
HORIZON_DAYS = 373

# The open spans of a local day.
SpanOf = Callable[[date], list[tuple[time, time]]]


@dataclass(frozen=True, slots=True)
class Status:
    open: bool
    # When `open` stops being true: the window's end, or the next opening; None: never.
    until: datetime | None


NEVER = Status(False, None)


def _zone_info(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # An unknown zone ("Europe" is a directory: OSError) is never called.
        return None


def status(
    rules: CallingRules, zone: str, at: datetime, *, closed_days: Collection[date] = ()
) -> Status:
    """May the zone ("Europe/Oslo@NO") be called at `at`, and until when is that so?"""
    place = parse_zone(zone)
    tz = _zone_info(place.time_zone)
    if tz is None:
        return NEVER
    local = at.astimezone(tz)
    tenant_days = closed_days if rules.tenant_closed_days else ()

    def spans(day: date) -> list[tuple[time, time]]:
        if closed_on(
            day,
            country=place.country,
            public=rules.public_holidays,
            tenant_closed_days=tenant_days,
        ):
            return []
        return [(clock_time(w.start), clock_time(w.end)) for w in rules.windows(day.weekday())]

    now = local.time().replace(tzinfo=None)
    today = local.date()
    for start, end in spans(today):
        if start <= now < end:
            return Status(True, _instant(today, end, tz))
    opening = _next_opening(today, now, spans, tz)
    return Status(False, opening)


def _next_opening(today: date, now: time, spans: SpanOf, tz: ZoneInfo) -> datetime | None:
    for offset in range(HORIZON_DAYS):
        day = today + timedelta(days=offset)
        starts = [s for s, _ in spans(day) if offset > 0 or s > now]
        if starts:
            return _instant(day, min(starts), tz)
    return None


def _instant(day: date, moment: time, tz: ZoneInfo) -> datetime:
    """A local wall-clock time as a UTC instant; the end of day (24:00) is the next midnight."""
    if moment == time.max:
        local = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    else:
        local = datetime.combine(day, moment, tzinfo=tz)
    return local.astimezone(UTC)


def first_allowed(
    rules: CallingRules, zone: str, at: datetime, *, closed_days: Collection[date] = ()
) -> datetime | None:
    """`at` when the zone may be called then, else its next opening (None: never)."""
    found = status(rules, zone, at, closed_days=closed_days)
    return at if found.open else found.until


@dataclass
class ZoneClock:
    """The status of each zone, kept until it changes: a claim asks for every zone of its
    assignment, and most answers hold for hours."""

    rules: CallingRules
    closed_days: frozenset[date] = frozenset()
    # zone -> (the instant it was worked out for, its status then)
    _known: dict[str, tuple[datetime, Status]] = field(default_factory=dict)

    def status(self, zone: str, at: datetime) -> Status:
        known = self._known.get(zone)
        if known is not None:
            since, found = known
            if since <= at and (found.until is None or at < found.until):
                return found
        found = status(self.rules, zone, at, closed_days=self.closed_days)
        self._known[zone] = (at, found)
        return found

    def split(self, zones: Iterable[str], at: datetime) -> tuple[list[str], dict[str, int]]:
        """(the zones open at `at`, the others with their next opening in epoch ms, 0 for
        never)."""
        open_zones: list[str] = []
        openings: dict[str, int] = {}
        for zone in zones:
            found = self.status(zone, at)
            if found.open:
                open_zones.append(zone)
            else:
                openings[zone] = 0 if found.until is None else int(found.until.timestamp() * 1000)
        return open_zones, openings
