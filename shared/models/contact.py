"""Who may be contacted: do-not-call registers and consent (rule 34, decision 033)."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, BigId, IdMixin, TimestampMixin


class Register(IdMixin, TimestampMixin, Base):
    """A do-not-call register (Reservasjonsregisteret, Bloctel): its latest extract's date and
    how old an extract may be before dialling stops."""

    __tablename__ = "registers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        Index("ix_registers_tenant_page", "tenant_id", "id"),
    )

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"))
    name: Mapped[str] = mapped_column(String(200))
    # The law asks for a check at least monthly (Norway: markedsføringsloven § 12): 31 days.
    max_age_days: Mapped[int] = mapped_column(default=31)
    # The date of the extract in force; None until the first import commits.
    extract_date: Mapped[date | None] = mapped_column(default=None)
    numbers: Mapped[int] = mapped_column(default=0)
    imported_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by: Mapped[int | None] = mapped_column(BigInteger, default=None)


class RegisterNumber(Base):
    """One number of a register's extract in force, E.164. The claim looks numbers up by
    (tenant, phone): an index probe per number, whatever the register's size."""

    __tablename__ = "register_numbers"
    __table_args__ = (Index("ix_register_numbers_tenant_phone", "tenant_id", "phone"),)

    register_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigInteger)


class RegisterImport(IdMixin, TimestampMixin, Base):
    """One extract of a register being imported by the worker: its file and its progress."""

    __tablename__ = "register_imports"
    __table_args__ = (Index("ix_register_imports_register", "register_id", "id"),)

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"))
    register_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    extract_date: Mapped[date]
    # shared.models.imports.ImportStatus: queued, running, done, failed.
    status: Mapped[str] = mapped_column(String(10), default="queued")
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    accepted_rows: Mapped[int] = mapped_column(default=0)
    rejected_rows: Mapped[int] = mapped_column(default=0)
    # The first rejected lines ({"line", "value", "reason"}), no more than the import keeps.
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    payload: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class Channel(StrEnum):
    phone = "phone"
    sms = "sms"
    email = "email"


class Consent(IdMixin, TimestampMixin, Base):
    """One consent given or withdrawn: append-only, the latest per channel is in force. The
    phone channel's is copied to customers.phone_consent, which the claim reads."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_customer", "customer_id", "id"),)

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"))
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    channel: Mapped[str] = mapped_column(String(10))
    given: Mapped[bool]
    purpose: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(200), default="")
    # When the customer gave or withdrew it (may precede its recording).
    at: Mapped[datetime]
    recorded_by: Mapped[int | None] = mapped_column(BigInteger, default=None)
