from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, IdMixin, TimestampMixin


class Permission(StrEnum):
    """The permission bundles of DESIGN 3.8."""

    administrator = "administrator"
    assignment_setup = "assignment_setup"
    reporting = "reporting"
    revenue = "revenue"
    customer_handling = "customer_handling"
    extended_handling = "extended_handling"
    correction = "correction"
    # The care pipeline's bundle (rule 31, decision 028): intake employees register requests,
    # relationship managers and task executors work their own, team leads administer it.
    pipeline_register = "pipeline_register"
    pipeline_manage = "pipeline_manage"
    pipeline_admin = "pipeline_admin"
    # Machine tokens of a telephony system: reserve customers, report dials (decision 035).
    dialer = "dialer"


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"
    # Lists page by id within the tenant (decision 026).
    __table_args__ = (Index("ix_users_tenant_page", "tenant_id", "id"),)

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), default="")
    team: Mapped[str] = mapped_column(String(200), default="")
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    # The language the user reads the API's labels in (a tag such as "fr" or "nb-NO");
    # None: the request's Accept-Language decides.
    language: Mapped[str | None] = mapped_column(String(20), default=None)

    def has(self, permission: Permission) -> bool:
        granted = self.permissions
        return Permission.administrator.value in granted or permission.value in granted


class ApiToken(IdMixin, TimestampMixin, Base):
    """An opaque bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_tenant_page", "tenant_id", "id"),)

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    # None: the token never expires.
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    # None: every permission of its user; else only these (and only while the user holds them).
    scopes: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    # Kept to the minute (services/api/auth/tokens.py): no write per request.
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
