"""Contacts and prospects: the search that starts every registration, and new profiles that
pass the CRM's field checks and refuse likely duplicates (rule 4, seed 000 steps 1-4).

Profiles are the tenant's customers, found by every colleague whatever their assignments
(seed 001: "found by all collaborators"), so the pipeline's search is tenant-wide.
"""

import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.customer_details.schemas import CustomerEdit
from services.api.customer_details.validation import (
    check_against_tenant,
    check_values,
    external_id_holder,
    field_rules,
    tenant_region,
)
from services.api.errors import Conflict, Unprocessable
from services.api.pagination import PageRequest
from services.api.pipeline.schemas import ContactHits, ProfileIn
from services.api.pipeline.views import profile_out
from services.api.search.service import NO_MATCH, Query, SearchKey
from shared.importing.validation import PHONE_COLUMNS
from shared.models import Customer, Event, EventKind
from shared.pipeline.duplicates import Profile, likely_duplicate
from shared.pipeline.store import PipelineStore, profile_of


async def search(
    session: AsyncSession, tenant_id: int, text: str, *, page: PageRequest[SearchKey], language: str
) -> ContactHits:
    """Matches by name, phone, e-mail or external id, best first, and how many in all."""
    query = Query(text)
    rank = query.rank()
    scope = (Customer.tenant_id == tenant_id, rank < NO_MATCH)
    total = await PipelineStore(session, tenant_id).count(select(Customer).where(*scope))
    matching = select(Customer, rank).where(*scope)
    rows = (
        await session.execute(page.window(matching, rank, Customer.search_name, Customer.id))
    ).all()
    return page.answer(
        ContactHits,
        rows,
        key=lambda row: (row[1], row[0].search_name, row[0].id),
        item=lambda row: profile_out(row[0], language),
        query=query.text,
        total=total,
    )


def _refuse(duplicate: Profile, reason: str, *, partner_id: int | None) -> None:
    if duplicate.id == partner_id:
        raise Unprocessable(
            f"the contact person and the prospect have the same {reason}: one person",
            code="same_profile",
        )
    raise Conflict(
        f"a profile with the same {reason} exists: use it instead",
        code="duplicate_profile",
        duplicate_of={"id": duplicate.id, "name": duplicate.name, "matched_by": reason},
    )


async def create_profile(
    store: PipelineStore, profile: ProfileIn, *, user_id: int, partner_id: int | None = None
) -> Customer:
    """A new customer from `profile`, checked as a CRM edit is; 409 `duplicate_profile` with
    a pointer when it looks like an existing one; 422 `same_profile` when it looks like
    `partner_id`, the other profile of the same request."""
    session = store.session
    edit = CustomerEdit(
        external_id=profile.external_id or f"P-{secrets.token_hex(6)}",
        first_name=profile.first_name,
        last_name=profile.last_name,
        email=profile.email or None,
        phone_1=profile.phone or None,
        language=profile.language,
        account_type=profile.role.value,
        city=profile.city,
        custom=profile.custom,
    )
    rules = await field_rules(session, store.tenant_id)
    # A national number is read as the tenant's region's (a profile names no country).
    checked = check_values(edit, rules, region=await tenant_region(session, store.tenant_id))
    await check_against_tenant(
        session, checked, rules, tenant_id=store.tenant_id, customer_id=None, custom_now={}
    )
    checked.raise_if_failed()
    email = checked.columns.get("email")
    phones = [p for name in PHONE_COLUMNS if (p := checked.columns.get(name))]
    new = Profile(0, f"{profile.first_name} {profile.last_name}", email, phones)
    duplicate = likely_duplicate(new, await store.same_email_or_phone(email, phones))
    if duplicate is not None:
        _refuse(duplicate.existing, duplicate.matched_by, partner_id=partner_id)
    external_id = str(checked.columns["external_id"])
    holder = await external_id_holder(session, store.tenant_id, external_id)
    if holder is not None:
        _refuse(profile_of(holder), "external id", partner_id=partner_id)
    customer = Customer(tenant_id=store.tenant_id, custom={})
    for name, value in checked.columns.items():
        setattr(customer, name, value)
    customer.custom = dict(checked.custom)
    session.add(customer)
    await session.flush()
    # The customer's own history starts here, as for any CRM creation (rule 24).
    session.add(
        Event(
            tenant_id=store.tenant_id,
            customer_id=customer.id,
            user_id=user_id,
            kind=EventKind.customer_edited.value,
            data={"created": True, "source": "pipeline"},
        )
    )
    return customer
