"""Consent per customer and channel (rule 34): an append-only history whose latest entry per
channel is in force; the phone channel's is copied onto the customer, where a claim reads it.

Also the hooks a subject-access export reads: a customer's consent history and its register
and blocklist hits, as JSON-able lists.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.infra.timeutil import iso_or_none
from shared.models import BlockedPhone, Channel, Consent, Customer, Register, RegisterNumber


async def record(
    session: AsyncSession,
    customer: Customer,
    *,
    channel: Channel,
    given: bool,
    purpose: str,
    source: str,
    at: datetime,
    recorded_by: int | None,
) -> Consent:
    """Append a consent given or withdrawn; the phone channel's takes effect on the customer
    in the same transaction. The caller re-places the customer after the commit."""
    entry = Consent(
        tenant_id=customer.tenant_id,
        customer_id=customer.id,
        channel=channel.value,
        given=given,
        purpose=purpose,
        source=source,
        at=at,
        recorded_by=recorded_by,
    )
    session.add(entry)
    if channel == Channel.phone:
        # A statement, not an attribute: the ORM's update of the whole row would bump
        # updated_at and race with an edit of the card for nothing.
        await session.execute(
            update(Customer).where(Customer.id == customer.id).values(phone_consent=given)
        )
    await session.flush()
    return entry


def consent_json(entry: Consent) -> dict[str, Any]:
    return {
        "id": entry.id,
        "channel": entry.channel,
        "given": entry.given,
        "purpose": entry.purpose,
        "source": entry.source,
        "at": iso_or_none(entry.at),
        "recorded_by": entry.recorded_by,
        "recorded_at": iso_or_none(entry.created_at),
    }


async def consent_history(
    session: AsyncSession, tenant_id: int, customer_id: int
) -> list[dict[str, Any]]:
    """Every consent given or withdrawn by the customer, oldest first (subject access)."""
    rows = await session.scalars(
        select(Consent)
        .where(Consent.tenant_id == tenant_id, Consent.customer_id == customer_id)
        .order_by(Consent.id)
    )
    return [consent_json(entry) for entry in rows]


async def register_hits(
    session: AsyncSession, tenant_id: int, customer_id: int
) -> list[dict[str, Any]]:
    """The customer's numbers found in the tenant's registers and on its blocklist, now
    (subject access): which list, which number, since when."""
    customer = await session.scalar(
        select(Customer).where(Customer.id == customer_id, Customer.tenant_id == tenant_id)
    )
    if customer is None or not customer.phones:
        return []
    phones = customer.phones
    hits: list[dict[str, Any]] = []
    registered = await session.execute(
        select(RegisterNumber.phone, Register.name, Register.extract_date)
        .join(Register, Register.id == RegisterNumber.register_id)
        .where(RegisterNumber.tenant_id == tenant_id, RegisterNumber.phone.in_(phones))
        .order_by(Register.id, RegisterNumber.phone)
    )
    for phone, name, extract_date in registered:
        hits.append(
            {
                "list": "register",
                "register": name,
                "phone": phone,
                "extract_date": extract_date.isoformat() if extract_date else None,
            }
        )
    blocked = await session.scalars(
        select(BlockedPhone)
        .where(BlockedPhone.tenant_id == tenant_id, or_(*(BlockedPhone.phone == p for p in phones)))
        .order_by(BlockedPhone.id)
    )
    for entry in blocked:
        hits.append(
            {
                "list": "blocklist",
                "phone": entry.phone,
                "reason": entry.reason,
                "blocked_by": entry.blocked_by,
                "blocked_at": iso_or_none(entry.created_at),
                "expires_at": iso_or_none(entry.expires_at),
            }
        )
    return hits
