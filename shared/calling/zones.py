"""Where a customer is, for its calling rules: a time zone and a country, as one queue zone.

Customers wait in the queue in per-zone buckets (decision 001); a zone is "<time zone>" or
"<time zone>@<country>" so that two customers in one time zone but with different public
holidays (a French number living in Oslo time) wait apart, and each bucket is open or closed
as a whole. The time zone is the customer's own, else its phone number's, else the
assignment's default; the country is the customer's own, else its phone number's, else the
tenant's region (decision 029).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE
from phonenumbers.timezone import time_zones_for_number
from phonenumbers.tzdata import TIMEZONE_DATA

_SEPARATOR = "@"
_MAX_COUNTRY_CODE = 3


@dataclass(frozen=True, slots=True)
class Zone:
    time_zone: str
    country: str | None

    @property
    def key(self) -> str:
        return self.time_zone if not self.country else f"{self.time_zone}{_SEPARATOR}{self.country}"


def parse_zone(key: str) -> Zone:
    """A queue zone back into its time zone and country (older queues hold the zone alone)."""
    time_zone, _, country = key.partition(_SEPARATOR)
    return Zone(time_zone, country or None)


@lru_cache(maxsize=1024)
def _country_code(e164: str) -> int | None:
    """The calling code at the start of an E.164 number (+47..., +33..., +1...)."""
    for width in range(1, _MAX_COUNTRY_CODE + 1):
        code = int(e164[1 : 1 + width] or 0)
        if code in COUNTRY_CODE_TO_REGION_CODE:
            return code
    return None


@lru_cache(maxsize=512)
def _region_and_zone(code: int) -> tuple[str | None, str | None]:
    """The main region of a calling code and its one time zone (None when it has several:
    +1 spans the Americas, +7 Russia's eleven zones)."""
    region = phonenumbers.region_code_for_country_code(code)
    if region == phonenumbers.UNKNOWN_REGION:
        return None, None
    zones = TIMEZONE_DATA.get(str(code), ())
    if not zones or not _alike(zones):
        return region, None
    # Zones that keep the same clock (+47: Oslo and Longyearbyen): name the region's own.
    example = phonenumbers.example_number(region)
    named = time_zones_for_number(example) if example is not None else ()
    return region, named[0] if len(named) == 1 and named[0] in zones else zones[0]


def _alike(zones: Sequence[str]) -> bool:
    """Whether the zones keep one clock: the same UTC offsets through two years."""
    instants = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=15 * i) for i in range(49)]
    try:
        clocks = {tuple(t.astimezone(ZoneInfo(z)).utcoffset() for t in instants) for z in zones}
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return len(clocks) == 1


def phone_place(phone: str | None) -> tuple[str | None, str | None]:
    """(region, time zone) of an E.164 number by its calling code; a dictionary look-up per
    number after the first of each code, so a rebuild of a million customers can afford it."""
    if not phone or not phone.startswith("+"):
        return None, None
    code = _country_code(phone[:4])
    return _region_and_zone(code) if code is not None else (None, None)


def zone_key(
    *,
    time_zone: str | None,
    country: str | None,
    phones: Sequence[str | None],
    default_time_zone: str,
    default_country: str | None,
) -> str:
    """The queue zone of a customer (the module docstring gives the order of precedence)."""
    if time_zone and country:
        return _key(time_zone, country, None, default_time_zone, default_country)
    phone = next((p for p in phones if p), None)
    # Only a number's calling code tells its place (phone_place): customers of one shape
    # share a key, worked out once (an import or a rebuild asks for a million).
    code = phone[: 1 + _MAX_COUNTRY_CODE] if phone and phone.startswith("+") else None
    return _key(time_zone, country, code, default_time_zone, default_country)


@lru_cache(maxsize=4096)
def _key(
    time_zone: str | None,
    country: str | None,
    code: str | None,
    default_time_zone: str,
    default_country: str | None,
) -> str:
    region, phone_zone = phone_place(code)
    return Zone(
        time_zone or phone_zone or default_time_zone, country or region or default_country
    ).key
