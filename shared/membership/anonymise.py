"""Irreversible anonymisation (rule 5): what identifies a person is blanked; the membership,
events, products and meetings stay, so reports give the same numbers before and after."""

from datetime import datetime
from typing import Any

from shared.errors import Conflict

ANONYMOUS_PREFIX = "anon-"


def may_anonymise(
    customer_id: int, *, anonymised_at: datetime | None, holder: tuple[int, str] | None
) -> None:
    """Refuse twice, and while an agent (`holder`: id and name) has the customer."""
    if anonymised_at is not None:
        raise Conflict(f"customer {customer_id} is already anonymised")
    if holder is not None:
        holder_id, name = holder
        raise Conflict(
            f"customer {customer_id} is held by {name}; anonymise it once released",
            holder={"id": holder_id, "name": name},
        )


def anonymous_external_id(customer_id: int, *, taken: bool, tail: str) -> str:
    """anon-<id>; external ids are unique per tenant, so a taken one gets a random tail."""
    candidate = f"{ANONYMOUS_PREFIX}{customer_id}"
    return candidate if not taken else f"{candidate}-{tail}"


def blanked(external_id: str, now: datetime) -> dict[str, Any]:
    """The customer's columns after anonymisation."""
    return {
        "external_id": external_id,
        "first_name": "",
        "last_name": "",
        "phone_1": None,
        "phone_2": None,
        "phone_3": None,
        "email": None,
        "language": None,
        "time_zone": None,
        "country": None,
        "account_type": "",
        "city": "",
        "custom": {},
        "anonymised_at": now,
    }


def blank_edit(data: dict[str, Any] | None) -> dict[str, Any]:
    """A CRM edit's event data without the old and new values: only which fields changed."""
    return {"fields": sorted((data or {}).get("changes", {}))}
