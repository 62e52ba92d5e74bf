"""A selection of customers in one assignment (rule 28): the filters of moves and bulk actions."""

from typing import Any, Self

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import ColumnElement, and_, or_

from shared.models import Customer, Membership


class Selection(BaseModel):
    assignment_id: int = Field(ge=1)
    segment_ids: list[int] | None = Field(
        default=None, description="Only these segments; 0 stands for unsegmented."
    )
    states: list[str] | None = None
    attempts_min: int | None = Field(default=None, ge=0)
    attempts_max: int | None = Field(default=None, ge=0)
    has_phone: bool | None = None
    has_email: bool | None = None
    custom: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Custom field equals value."
    )
    customer_ids: list[int] | None = Field(default=None, max_length=100_000)

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
