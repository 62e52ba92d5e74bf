"""Days a zone is closed: its country's public holidays (the `holidays` package) and the
tenant's own closed days."""

from collections.abc import Collection
from datetime import date
from functools import lru_cache

import holidays


@lru_cache(maxsize=256)
def public_holidays(country: str, year: int) -> frozenset[date]:
    """The country's public holidays in one year; none for a country the package lacks."""
    try:
        found = holidays.country_holidays(country, years=year)
    except NotImplementedError:
        return frozenset()
    return frozenset(found)


def closed_on(
    day: date,
    *,
    country: str | None,
    public: bool,
    tenant_closed_days: Collection[date],
) -> bool:
    if day in tenant_closed_days:
        return True
    return public and country is not None and day in public_holidays(country, day.year)
