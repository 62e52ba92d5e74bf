from enum import StrEnum

from pydantic import BaseModel, ConfigDict

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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "query": "ode",
                    "full": False,
                    "limit": 50,
                    "next": None,
                    "items": [
                        {
                            "id": 1042,
                            "external_id": "CRM-10042",
                            "first_name": "Ola",
                            "last_name": "Ødegård",
                            "account_type": "private",
                            "email": "ola@example.com",
                            "city": "Oslo",
                            "phones": ["+4791234567"],
                            "assignment_id": 3,
                            "assignment_name": "Spring campaign",
                            "state": "free",
                            "matched_by": "name",
                        }
                    ],
                }
            ]
        }
    )

    query: str
    full: bool
