"""Request and response bodies of /v1/me, /v1/users and /v1/tokens."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    model_validator,
)

from services.api.fields import Flag, Name, Text
from services.api.patch import Patch
from shared.infra.storable import storable_text
from shared.models import Permission

EMAIL_PATTERN = r"^$|^[^@\s\x00]+@[^@\s\x00]+$"

# Its own pattern, so not `Text` (pydantic keeps one pattern in the schema, the first).
Email = Annotated[str, Field(max_length=320, pattern=EMAIL_PATTERN), AfterValidator(storable_text)]
Team = Annotated[Text, Field(max_length=200)]
# A language tag ("fr", "nb-NO"): the language the user reads labels in.
Language = Annotated[str, Field(max_length=20, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$")]


def _unique(permissions: list[Permission]) -> list[Permission]:
    return list(dict.fromkeys(permissions))


Permissions = Annotated[list[Permission], AfterValidator(_unique)]


class TenantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    data_controller: str
    processing_purpose: str


class MeOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "name": "Kari Nordmann",
                    "email": "kari@example.com",
                    "team": "Oslo",
                    "tenant": {
                        "id": 1,
                        "name": "Acme",
                        "data_controller": "Acme AS",
                        "processing_purpose": "Sales to existing customers",
                    },
                    "permissions": ["customer_handling"],
                }
            ]
        }
    )

    id: int
    name: str
    email: str
    team: str
    language: str | None = None
    tenant: TenantOut
    permissions: list[str]


class UserCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Kari Nordmann",
                    "email": "kari@example.com",
                    "team": "Oslo",
                    "permissions": ["customer_handling"],
                }
            ]
        },
        extra="forbid",
    )

    name: Name
    email: Email = ""
    team: Team = ""
    language: Language | None = None
    permissions: Permissions = Field(default_factory=list)


class UserUpdate(Patch):
    """Only the fields sent change; `language` may be null (it clears the user's choice)."""

    nullable = frozenset({"language"})

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"team": "Bergen", "permissions": ["customer_handling", "extended_handling"]},
                {"active": False},
            ]
        },
        extra="forbid",
    )

    name: Name | None = None
    email: Email | None = None
    team: Team | None = None
    # null clears it: the request's Accept-Language decides again.
    language: Language | None = None
    permissions: Permissions | None = None
    active: Flag | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "name": "Kari Nordmann",
                    "email": "kari@example.com",
                    "team": "Oslo",
                    "permissions": ["customer_handling"],
                    "active": True,
                    "created_at": "2026-12-01T08:00:00Z",
                }
            ]
        },
        from_attributes=True,
    )

    id: int
    name: str
    email: str
    team: str
    language: str | None = None
    permissions: list[str]
    active: bool
    created_at: datetime


class TokenCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "reporting export"},
                {
                    "name": "dialer",
                    "scopes": ["customer_handling"],
                    "expires_at": "2027-06-30T00:00:00Z",
                },
            ]
        },
    )

    name: Name
    expires_at: AwareDatetime | None = Field(
        default=None, description="When the token stops working; none: never."
    )
    scopes: Annotated[Permissions, Field(min_length=1)] | None = Field(
        default=None,
        description=(
            "Only these permissions, each held by the user (an administrator holds all);"
            " none: every permission of the user, as it changes."
        ),
    )

    @model_validator(mode="after")
    def _expires_later(self) -> Self:
        if self.expires_at is not None and self.expires_at <= datetime.now(UTC):
            raise ValueError("'expires_at' must be in the future")
        return self


class TokenStatus(StrEnum):
    active = "active"
    expired = "expired"
    revoked = "revoked"


TOKEN_EXAMPLE: dict[str, Any] = {
    "id": 12,
    "user_id": 7,
    "name": "dialer",
    "created_at": "2026-12-01T08:00:00Z",
    "revoked_at": None,
    "expires_at": "2027-06-30T00:00:00Z",
    "scopes": ["customer_handling"],
    "last_used_at": "2026-12-05T14:02:00Z",
    "status": "active",
}


class TokenOut(BaseModel):
    """A token as listed: never its secret."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [TOKEN_EXAMPLE]},
        from_attributes=True,
    )

    id: int
    user_id: int
    name: str
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None = None
    scopes: list[str] | None = Field(
        default=None, description="None: every permission of the user."
    )
    last_used_at: datetime | None = Field(
        default=None, description="When a request last carried it, to the minute."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> TokenStatus:
        if self.revoked_at is not None:
            return TokenStatus.revoked
        if self.expires_at is not None and self.expires_at <= datetime.now(UTC):
            return TokenStatus.expired
        return TokenStatus.active


class NewTokenOut(TokenOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**TOKEN_EXAMPLE, "token": "nc_4kQ0xP7yZ2bR9vT1mW8sL3dF6hJ5gN0c"}]
        }
    )

    token: str = Field(description="The bearer token. Shown this once; only its hash is kept.")
