"""Editing and creating customers' CRM fields, with an event that says what changed."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.api.assignments.service import place_customers
from services.api.auth.cache import Principal
from services.api.customer_details.access import Found, visible_customer
from services.api.customer_details.schemas import CustomerCreate, CustomerDetails, CustomerEdit
from services.api.customer_details.service import details_of
from services.api.customer_details.validation import (
    Checked,
    check_against_tenant,
    check_values,
    external_id_holder,
    field_rules,
    likely_duplicate,
    tenant_region,
)
from services.api.errors import Conflict
from services.api.resources import Resources
from shared.importing.validation import PHONE_COLUMNS
from shared.models import Customer, Event, EventKind


async def _checked(
    session: AsyncSession, principal: Principal, body: CustomerEdit, customer: Customer | None
) -> Checked:
    rules = await field_rules(session, principal.tenant_id)
    region = (customer.country if customer is not None else None) or await tenant_region(
        session, principal.tenant_id
    )
    checked = check_values(body, rules, region=region)
    await check_against_tenant(
        session,
        checked,
        rules,
        tenant_id=principal.tenant_id,
        customer_id=customer.id if customer is not None else None,
        custom_now=dict(customer.custom or {}) if customer is not None else {},
    )
    checked.raise_if_failed()
    new_id = checked.columns.get("external_id")
    if new_id is not None and (customer is None or new_id != customer.external_id):
        holder = await external_id_holder(session, principal.tenant_id, new_id)
        if holder is not None:
            raise Conflict(
                f"external id '{new_id}' is already used by customer {holder.id}",
                duplicate_of={"id": holder.id, "name": holder.display_name},
            )
    return checked


def _apply(customer: Customer, checked: Checked) -> dict[str, dict[str, Any]]:
    """Write the new values; (field -> old and new) of what really changed."""
    changes: dict[str, dict[str, Any]] = {}
    for name, value in checked.columns.items():
        old = getattr(customer, name)
        if old != value:
            changes[name] = {"old": old, "new": value}
            setattr(customer, name, value)
    custom = dict(customer.custom or {})
    for key, value in checked.custom.items():
        old = custom.get(key)
        if old != value:
            changes[f"custom.{key}"] = {"old": old, "new": value}
            if value is None:
                custom.pop(key, None)
            else:
                custom[key] = value
    # A new dict, so the JSON column is seen as changed.
    customer.custom = custom
    return changes


def _edited_event(
    principal: Principal, found: Found, changes: dict[str, dict[str, Any]], **data: Any
) -> Event:
    return Event(
        tenant_id=principal.tenant_id,
        customer_id=found.customer.id,
        assignment_id=found.membership.assignment_id if found.membership else None,
        user_id=principal.user_id,
        kind=EventKind.customer_edited.value,
        data={"changes": changes, **data},
    )


async def edit(
    res: Resources, principal: Principal, customer_id: int, body: CustomerEdit
) -> CustomerDetails:
    async with res.session() as session:
        found = await visible_customer(session, principal, customer_id, for_update=True)
        if found.customer.anonymised_at is not None:
            raise Conflict(f"customer {customer_id} is anonymised and can no longer be edited")
        checked = await _checked(session, principal, body, found.customer)
        changes = _apply(found.customer, checked)
        if changes:
            session.add(_edited_event(principal, found, changes))
        await session.flush()
    if changes and found.assignment is not None:
        # Phones (blocklist), time zone (contact hours) and custom fields (ordering) decide
        # the customer's place: put it where the committed facts say.
        async with res.sessionmaker() as session:
            await place_customers(session, res.redis, found.assignment, customer_ids=[customer_id])
    return await _read_back(res, principal, customer_id)


async def create(res: Resources, principal: Principal, body: CustomerCreate) -> CustomerDetails:
    """One customer, in no assignment; a likely duplicate answers 409 with its profile."""
    async with res.session() as session:
        checked = await _checked(session, principal, body, None)
        phones = [p for name in PHONE_COLUMNS if (p := checked.columns.get(name))]
        duplicate = await likely_duplicate(
            session, principal.tenant_id, email_address=checked.columns.get("email"), phones=phones
        )
        if duplicate is not None:
            raise Conflict(
                f"customer {duplicate.id} has the same e-mail or phone number",
                duplicate_of={"id": duplicate.id, "name": duplicate.display_name},
            )
        customer = Customer(tenant_id=principal.tenant_id, external_id="", custom={})
        changes = _apply(customer, checked)
        session.add(customer)
        await session.flush()
        found = Found(customer, None, None)
        session.add(_edited_event(principal, found, changes, created=True))
        await session.flush()
        customer_id = customer.id
    return await _read_back(res, principal, customer_id)


async def _read_back(res: Resources, principal: Principal, customer_id: int) -> CustomerDetails:
    """The details as committed, for the answer."""
    async with res.sessionmaker() as session:
        fresh = await visible_customer(session, principal, customer_id)
        return await details_of(session, res.redis, principal, fresh)
