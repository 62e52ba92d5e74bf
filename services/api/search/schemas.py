from enum import StrEnum

from pydantic import BaseModel

from services.api.pagination import Page


class MatchedBy(StrEnum):
    external_id = "external_id"
    phone = "phone"
    email = "email"
    name = "name"


class SearchHit(BaseModel):
    """Enough to tell people apart before opening one (rule 4)."""

    id: int
    external_id: str
    first_name: str
    last_name: str
    account_type: str
    email: str | None
    city: str
    phones: list[str]
    assignment_id: int | None
    assignment_name: str | None
    state: str | None
    matched_by: MatchedBy


class SearchOut(Page[SearchHit]):
    """The hits, best first."""

    query: str
    full: bool
