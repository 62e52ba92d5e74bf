from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, IdMixin, TimestampMixin, utcnow


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
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
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
    __table_args__ = (UniqueConstraint("tenant_id", "phone"),)

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(200), default="")
