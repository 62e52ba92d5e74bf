"""Checking CRM edits with the import's rules (rule 2), so a field means one thing everywhere.

The per-value checks come from shared.importing.validation; what needs the database (required
and unique-if-filled custom fields, a free external id) is checked here against the tenant.
Unlike an import, where an empty cell means "not given", an edit's null or "" clears a field.
"""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.customer_details.schemas import CustomerEdit
from services.api.errors import Unprocessable
from shared.customers.phones import DEFAULT_REGION
from shared.importing.validation import (
    PHONE_COLUMNS,
    TEXT_COLUMNS,
    FieldRules,
    RowProblem,
    column_value,
    custom_value,
)
from shared.models import Customer, CustomFieldDefinition, Tenant

# Columns that hold "" rather than NULL when empty.
BLANK_IS_EMPTY = frozenset({"first_name", "last_name", "account_type", "city"})
# Country first: the phone numbers after it are read as its national numbers.
COLUMNS = ("external_id", "country", *TEXT_COLUMNS, *PHONE_COLUMNS, "email", "time_zone")


@dataclass
class Checked:
    """Normalised new values: columns, and custom keys (None clears)."""

    columns: dict[str, str | None] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)

    def fail(self, name: str, reason: str) -> None:
        self.errors.append({"field": name, "reason": reason})

    def raise_if_failed(self) -> None:
        if self.errors:
            summary = "; ".join(f"{e['field']}: {e['reason']}" for e in self.errors)
            raise Unprocessable(f"invalid customer fields: {summary}", errors=self.errors)


async def tenant_region(session: AsyncSession, tenant_id: int) -> str:
    """The country of the tenant's national phone numbers (issue 15 point 4)."""
    region = await session.scalar(select(Tenant.region).where(Tenant.id == tenant_id))
    return region or DEFAULT_REGION


async def field_rules(session: AsyncSession, tenant_id: int) -> FieldRules:
    definitions = await session.scalars(
        select(CustomFieldDefinition).where(CustomFieldDefinition.tenant_id == tenant_id)
    )
    return FieldRules.from_definitions(definitions)


def check_values(body: CustomerEdit, rules: FieldRules, *, region: str) -> Checked:
    """Each given field checked on its own (no database). National phone numbers are read as
    `region`'s (the customer's country, else the tenant's region) unless the edit names a
    country."""
    checked = Checked()
    given = body.model_dump(exclude_unset=True)
    for name in COLUMNS:
        if name not in given:
            continue
        raw = given[name]
        text = raw.strip() if isinstance(raw, str) else None
        if not text:
            if name == "external_id":
                checked.fail(name, "is required")
            else:
                checked.columns[name] = "" if name in BLANK_IS_EMPTY else None
            continue
        try:
            checked.columns[name] = column_value(
                name, text, region=checked.columns.get("country") or region
            )
        except RowProblem as exc:
            checked.fail(name, str(exc))
    for key, raw in (given.get("custom") or {}).items():
        rule = rules.by_key.get(key)
        if rule is None:
            checked.fail(f"custom.{key}", "is not a custom field of this tenant")
            continue
        try:
            checked.custom[key] = custom_value(rule, raw)
        except RowProblem as exc:
            checked.fail(f"custom.{key}", str(exc))
    return checked


async def check_against_tenant(
    session: AsyncSession,
    checked: Checked,
    rules: FieldRules,
    *,
    tenant_id: int,
    customer_id: int | None,
    custom_now: dict[str, Any],
) -> None:
    """Required custom fields filled, unique-if-filled values free (as an import checks)."""
    merged = {**custom_now, **checked.custom}
    for key in rules.required:
        if merged.get(key) in (None, ""):
            checked.fail(f"custom.{key}", "is required")
    for key in rules.unique:
        value = checked.custom.get(key)
        if value is None:
            continue
        stored = Customer.custom[key].as_string()
        query = select(Customer.external_id).where(
            Customer.tenant_id == tenant_id, stored == str(value)
        )
        if customer_id is not None:
            query = query.where(Customer.id != customer_id)
        holder = await session.scalar(query.limit(1))
        if holder is not None:
            checked.fail(
                f"custom.{key}", f"must be unique: '{value}' is already used by customer '{holder}'"
            )


async def external_id_holder(
    session: AsyncSession, tenant_id: int, external_id: str
) -> Customer | None:
    return await session.scalar(
        select(Customer).where(Customer.tenant_id == tenant_id, Customer.external_id == external_id)
    )


async def likely_duplicate(
    session: AsyncSession, tenant_id: int, *, email_address: str | None, phones: list[str]
) -> Customer | None:
    """A profile with the same e-mail or one of the same phone numbers (rule 4)."""
    conditions = []
    if email_address:
        conditions.append(func.lower(Customer.email) == email_address.lower())
    for phone in phones:
        conditions.extend(
            [Customer.phone_1 == phone, Customer.phone_2 == phone, Customer.phone_3 == phone]
        )
    if not conditions:
        return None
    return await session.scalar(
        select(Customer)
        .where(Customer.tenant_id == tenant_id, Customer.anonymised_at.is_(None), or_(*conditions))
        .order_by(Customer.id)
        .limit(1)
    )
