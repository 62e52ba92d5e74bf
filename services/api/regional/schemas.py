from datetime import date
from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

REGIONAL_EXAMPLE: dict[str, Any] = {
    "region": "NO",
    "locale": "nb",
    "closed_days": ["2026-12-24", "2026-12-31"],
}

Locale = Literal["nb", "nn", "da", "sv", "fr", "en"]


def _region(code: str) -> str:
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"'{code}' is not a country code phone numbers are known for")
    return code


Region = Annotated[
    str, Field(pattern=r"^[A-Z]{2}$", examples=["NO", "FR"]), AfterValidator(_region)
]


class RegionalOut(BaseModel):
    """The tenant's country, language of sorting and closed days (issue 15 points 1, 4, 7)."""

    model_config = ConfigDict(json_schema_extra={"examples": [REGIONAL_EXAMPLE]})

    region: str = Field(
        description="ISO 3166 alpha-2: national phone numbers are this country's, and its "
        "public holidays apply to customers without a country of their own."
    )
    locale: str = Field(description="How names sort in lists and exports.")
    closed_days: list[date] = Field(description="Days nobody is called, besides holidays.")


class RegionalIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [REGIONAL_EXAMPLE]}, extra="forbid")

    region: Region
    locale: Locale
    closed_days: Annotated[list[date], Field(max_length=1000)] = Field(default_factory=list)
