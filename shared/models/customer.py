from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from shared.customers.search import search_name
from shared.models.base import Base, BigId, IdMixin, TimestampMixin, utcnow


class FieldType(StrEnum):
    text = "text"
    number = "number"
    date = "date"
    email = "email"
    phone = "phone"
    link = "link"


class CustomFieldDefinition(IdMixin, TimestampMixin, Base):
    """A custom field a tenant declares for its customers (rule 2)."""

    __tablename__ = "custom_field_definitions"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"), index=True)
    key: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(200), default="")
    type: Mapped[str] = mapped_column(String(20), default=FieldType.text.value)
    required: Mapped[bool] = mapped_column(default=False)
    unique_if_filled: Mapped[bool] = mapped_column(default=False)


class Customer(IdMixin, TimestampMixin, Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("tenant_id", "external_id"),)

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(200))
    first_name: Mapped[str] = mapped_column(String(200), default="")
    last_name: Mapped[str] = mapped_column(String(200), default="")
    # Up to three numbers, stored normalised to E.164 (rule 2).
    phone_1: Mapped[str | None] = mapped_column(String(20), default=None, index=True)
    phone_2: Mapped[str | None] = mapped_column(String(20), default=None, index=True)
    phone_3: Mapped[str | None] = mapped_column(String(20), default=None, index=True)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    language: Mapped[str | None] = mapped_column(String(20), default=None)
    time_zone: Mapped[str | None] = mapped_column(String(64), default=None)
    # ISO 3166 alpha-2; None: the phone number's country, else the tenant's region.
    country: Mapped[str | None] = mapped_column(String(2), default=None)
    # Shown in search results to tell people apart (rule 4).
    account_type: Mapped[str] = mapped_column(String(50), default="")
    city: Mapped[str] = mapped_column(String(200), default="")
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # "first last", folded by shared.customers.search.fold (lower case, no accents): what name
    # search matches, so "ode" finds "Ødegård" on every database.
    search_name: Mapped[str] = mapped_column(String(400), default="", index=True)
    # The phone channel's consent in force (shared.models.contact.Consent): None never asked,
    # False withdrawn. Copied here so a claim reads it with the card, no look-up of its own.
    phone_consent: Mapped[bool | None] = mapped_column(default=None)
    # Set once by anonymisation (rule 5); personal fields are blank from then on.
    anonymised_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def phones(self) -> list[str]:
        return [p for p in (self.phone_1, self.phone_2, self.phone_3) if p]

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class BlockedPhone(IdMixin, TimestampMixin, Base):
    """A number on the tenant's blocklist or do-not-call list (rule 12)."""

    __tablename__ = "blocked_phones"
    __table_args__ = (
        UniqueConstraint("tenant_id", "phone"),
        # The list pages by id (decision 026); a do-not-call register may hold millions.
        Index("ix_blocked_phones_tenant_page", "tenant_id", "id"),
    )

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(200), default="")
    # Who blocked it (a user id; None for entries older than the field) and until when
    # (None: for good). An expired entry bars no one; the worker removes it.
    blocked_by: Mapped[int | None] = mapped_column(BigInteger, default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)


class ProductStatus(StrEnum):
    offered = "offered"  # open
    sold = "sold"  # closed


class Product(IdMixin, TimestampMixin, Base):
    """A product offered to or sold to a customer, registered with an outcome (rule 24)."""

    __tablename__ = "products"
    __table_args__ = (Index("ix_products_customer", "customer_id"),)

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"), index=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    assignment_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    event_id: Mapped[int | None] = mapped_column(BigInteger, default=None, index=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default=ProductStatus.offered.value)
    quantity: Mapped[int] = mapped_column(default=1)
    # Money as integer minor units (cents, øre): exact sums in reports on every database.
    amount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="")


class Meeting(IdMixin, TimestampMixin, Base):
    """A meeting booked with an outcome (rule 24). Cancelled meetings are marked, not deleted."""

    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_customer", "customer_id"),)

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"), index=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    assignment_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    event_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None] = mapped_column(default=None)
    location: Mapped[str] = mapped_column(String(300), default="")
    note: Mapped[str] = mapped_column(String(2000), default="")
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)


@event.listens_for(Customer, "before_insert")
@event.listens_for(Customer, "before_update")
def _fold_name(_mapper: Any, _connection: Any, customer: Customer) -> None:
    """ORM writes keep `search_name` in step with the name; Core writers call search_name()."""
    customer.search_name = search_name(customer.first_name or "", customer.last_name or "")
