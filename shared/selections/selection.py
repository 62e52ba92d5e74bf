"""A selection of customers in one assignment (rule 28): the filters of moves and bulk actions."""

from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import ColumnElement, and_, or_

from shared.infra.storable import MAX_ID, MAX_INTEGER, NO_NUL_PATTERN, storable_text
from shared.models import Customer, Membership


def _sql_number(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        raise ValueError("numbers are compared as floats: at most 2**53 in size")
    return value


# Every value must fit what it is compared with in SQL, so that a malformed selection answers
# 422 and never reaches PostgreSQL as an error (an id past BIGINT, a NUL byte in text).
_RowId = Annotated[int, Field(ge=0, le=MAX_ID)]
_Text = Annotated[str, Field(pattern=NO_NUL_PATTERN), AfterValidator(storable_text)]
_Attempts = Annotated[int, Field(ge=0, le=MAX_INTEGER)]


class Selection(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "assignment_id": 3,
                    "states": ["free"],
                    "has_phone": True,
                    "custom": {"region": "Oslo"},
                }
            ]
        }
    )

    assignment_id: int = Field(ge=1, le=MAX_ID)
    segment_ids: list[_RowId] | None = Field(
        default=None, description="Only these segments; 0 stands for unsegmented."
    )
    states: list[_Text] | None = None
    attempts_min: _Attempts | None = None
    attempts_max: _Attempts | None = None
    has_phone: bool | None = None
    has_email: bool | None = None
    custom: dict[_Text, Annotated[_Text | int | float | bool, AfterValidator(_sql_number)]] = Field(
        default_factory=dict, description="Custom field equals value."
    )
    customer_ids: list[_RowId] | None = Field(default=None, max_length=100_000)

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        low, high = self.attempts_min, self.attempts_max
        if low is not None and high is not None and low > high:
            raise ValueError("attempts_min is above attempts_max")
        return self

    def where(self, tenant_id: int) -> ColumnElement[bool]:
        """The condition over Membership joined with Customer."""
        parts: list[ColumnElement[bool]] = [
            Membership.tenant_id == tenant_id,
            Membership.assignment_id == self.assignment_id,
        ]
        if self.segment_ids is not None:
            ids = [s for s in self.segment_ids if s]
            segment = Membership.segment_id.in_(ids)
            parts.append(
                or_(segment, Membership.segment_id.is_(None)) if 0 in self.segment_ids else segment
            )
        if self.states is not None:
            parts.append(Membership.state.in_(self.states))
        if self.attempts_min is not None:
            parts.append(Membership.attempts >= self.attempts_min)
        if self.attempts_max is not None:
            parts.append(Membership.attempts <= self.attempts_max)
        if self.has_phone is not None:
            any_phone = or_(
                Customer.phone_1.is_not(None),
                Customer.phone_2.is_not(None),
                Customer.phone_3.is_not(None),
            )
            parts.append(any_phone if self.has_phone else ~any_phone)
        if self.has_email is not None:
            filled = and_(Customer.email.is_not(None), Customer.email != "")
            parts.append(filled if self.has_email else ~filled)
        for key, value in self.custom.items():
            parts.append(_custom_equals(key, value))
        if self.customer_ids is not None:
            parts.append(Membership.customer_id.in_(self.customer_ids))
        return and_(*parts)


def _custom_equals(key: str, value: Any) -> ColumnElement[bool]:
    field = Customer.custom[key]
    if isinstance(value, bool):
        return field.as_boolean() == value
    if isinstance(value, int | float):
        return field.as_float() == float(value)
    return field.as_string() == str(value)
