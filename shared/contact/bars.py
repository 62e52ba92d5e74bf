"""Why a customer must not be called now: the rule, and the SQL expression that feeds it.

A customer is barred when every number on its card is barred (another number may still be
called, as the blocklist always did), or when its assignment requires consent it has not
given. A number is barred by the tenant's blocklist (an entry not expired) or by one of its
registers, unless the assignment exempts the customer as an existing one.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, case, exists, func, literal, or_, select

from shared.models import BlockedPhone, RegisterNumber

_blocked = cast(Table, BlockedPhone.__table__)
_numbers = cast(Table, RegisterNumber.__table__)


class Bar(StrEnum):
    """Why a customer is not served (the label of nextcall_contact_bars_total)."""

    blocklist = "blocklist"
    register = "register"
    consent = "consent"
    stale_register = "stale_register"


@dataclass(frozen=True, slots=True)
class Bars:
    """Which of some numbers the tenant bars, by where the bar comes from."""

    blocklisted: Collection[str] = frozenset()
    registered: Collection[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.blocklisted) or bool(self.registered)

    @classmethod
    def from_mask(cls, phones: Sequence[str | None], mask: int) -> "Bars":
        """The numbers `bar_mask` flagged, `phones` in the order the expression took them."""
        blocklisted = {p for i, p in enumerate(phones) if p and mask & (1 << i)}
        registered = {p for i, p in enumerate(phones) if p and mask & (1 << (i + REGISTER_SHIFT))}
        return cls(blocklisted, registered)


NO_BARS = Bars()
# Bits 0-2 of a mask: the blocklist, per number; bits 3-5: a register.
REGISTER_SHIFT = 3


def exempt(custom: Mapping[str, Any] | None, exempt_field: str | None) -> bool:
    """Is the customer an existing one the assignment exempts from the registers?"""
    if exempt_field is None or not custom:
        return False
    value = custom.get(exempt_field)
    return value is not None and value != "" and value is not False


def bar_of(
    phones: Sequence[str],
    bars: Bars,
    *,
    exempt: bool = False,
    consent_required: bool = False,
    consent: bool | None = None,
) -> Bar | None:
    """Why the customer must not be called, or None if it may be. `phones` are the card's
    numbers (none empty)."""
    if phones and bars:
        by_register = False
        for phone in phones:
            if phone in bars.blocklisted:
                continue
            if exempt or phone not in bars.registered:
                break
            by_register = True
        else:
            return Bar.register if by_register else Bar.blocklist
    if consent_required and consent is not True:
        return Bar.consent
    return None


def bar_mask(phones: Sequence[Any], tenant_id: Any) -> ColumnElement[int]:
    """A mask of which of `phones` (columns or parameters, up to three) the tenant's
    blocklist and registers bar: one index probe per number and source, so the cost does not
    grow with a register's size (ix_register_numbers_tenant_phone)."""
    terms: list[ColumnElement[int]] = []
    for i, phone in enumerate(phones):
        listed = exists(
            select(literal(1)).where(
                _blocked.c.tenant_id == tenant_id,
                _blocked.c.phone == phone,
                or_(_blocked.c.expires_at.is_(None), _blocked.c.expires_at > func.now()),
            )
        )
        registered = exists(
            select(literal(1)).where(_numbers.c.tenant_id == tenant_id, _numbers.c.phone == phone)
        )
        terms.append(case((listed, 1 << i), else_=0))
        terms.append(case((registered, 1 << (i + REGISTER_SHIFT)), else_=0))
    total: ColumnElement[int] = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def listed_among(tenant_id: int, phones: Collection[str], *, now: datetime) -> Select[str]:
    """Which of `phones` the tenant's blocklist bars (entries not expired at `now`)."""
    return select(_blocked.c.phone).where(
        _blocked.c.tenant_id == tenant_id,
        _blocked.c.phone.in_(list(phones)),
        or_(_blocked.c.expires_at.is_(None), _blocked.c.expires_at > now),
    )


def registered_among(tenant_id: int, phones: Collection[str]) -> Select[str]:
    """Which of `phones` one of the tenant's registers holds (each number once)."""
    return (
        select(_numbers.c.phone)
        .where(_numbers.c.tenant_id == tenant_id, _numbers.c.phone.in_(list(phones)))
        .distinct()
    )


def any_bars(tenant_id: int) -> Select[int]:
    """1 if the tenant bars any number at all: most do not, and then nothing is looked up."""
    return select(literal(1)).where(
        or_(
            exists(select(literal(1)).where(_blocked.c.tenant_id == tenant_id)),
            exists(select(literal(1)).where(_numbers.c.tenant_id == tenant_id)),
        )
    )
