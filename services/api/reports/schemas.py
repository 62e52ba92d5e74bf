from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# A year and a leap day: a yearly report in one request, and no unbounded scans.
MAX_RANGE_DAYS = 366


class ReportFormat(StrEnum):
    json = "json"
    csv = "csv"


@dataclass(frozen=True)
class ActivityParams:
    """The activity report's query, as the client sent it (checked by the service)."""

    first_day: date
    last_day: date
    group_by: str
    tz: str
    assignment_id: int | None
    team: str | None
    user_id: int | None


# What a row and the totals count, in the example of the report.
_COUNTS_EXAMPLE: dict[str, Any] = {
    "outcomes": {"sale": 3},
    "attempts": {"no_answer": 11},
    "sales": 3,
    "sold_units": 3,
    "products_offered": 1,
    "followups_kept": 2,
    "followups_passed": 0,
}


class ActivityReportOut(BaseModel):
    """Rows carry the grouped columns (assignment_id and assignment_name, team, user_id and
    user_name, day), then outcomes {code: n}, attempts {kind: n}, sales, sold_units,
    products_offered, followups_kept, followups_passed, and money {currency: minor units}
    only for callers with the revenue permission."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "from": "2026-12-01",
                    "to": "2026-12-05",
                    "tz": "Europe/Oslo",
                    "group_by": ["user", "day"],
                    "rows": [
                        {
                            "user_id": 7,
                            "user_name": "Kari Nordmann",
                            "day": "2026-12-04",
                            **_COUNTS_EXAMPLE,
                        }
                    ],
                    "totals": _COUNTS_EXAMPLE,
                }
            ]
        },
        populate_by_name=True,
    )

    from_: date = Field(alias="from")
    to: date
    tz: str
    group_by: list[str]
    rows: list[dict[str, Any]]
    totals: dict[str, Any]
