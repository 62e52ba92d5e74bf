"""Times are aware and in UTC everywhere; a naive time from a client or a driver means UTC."""

from datetime import UTC, datetime


def as_utc(moment: datetime) -> datetime:
    """The same instant as an aware UTC datetime; a naive value is taken to be UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso_or_none(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC, for event data; None stays None."""
    return as_utc(moment).isoformat() if moment else None
