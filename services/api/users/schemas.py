"""Request and response bodies of /v1/me, /v1/users and /v1/tokens."""

from datetime import datetime
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from services.api.fields import Name, Text
from shared.models import Permission

EMAIL_PATTERN = r"^$|^[^@\s]+@[^@\s]+$"

Email = Annotated[Text, Field(max_length=320, pattern=EMAIL_PATTERN)]
Team = Annotated[Text, Field(max_length=200)]


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
    id: int
    name: str
    email: str
    team: str
    tenant: TenantOut
    permissions: list[str]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    email: Email = ""
    team: Team = ""
    permissions: Permissions = Field(default_factory=list)


class UserUpdate(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    email: Email | None = None
    team: Team | None = None
    permissions: Permissions | None = None
    active: bool | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> Self:
        for field in self.model_fields_set:
            if getattr(self, field) is None:
                raise ValueError(f"'{field}' cannot be null")
        return self


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str
    team: str
    permissions: list[str]
    active: bool
    created_at: datetime


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name


class TokenOut(BaseModel):
    """A token as listed: never its secret."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    name: str
    created_at: datetime
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(description="The bearer token. Shown this once; only its hash is kept.")
