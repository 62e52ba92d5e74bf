"""Report flags of one event (rule 27)."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from services.api.fields import DbId, Flag
from services.api.patch import Patch


class ReportFlagsChange(Patch):
    """Only the fields sent change, at least one; `null` puts a re-attribution back to the
    event's own user or time."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["excluded"]},
                {"required": ["report_user_id"]},
                {"required": ["report_at"]},
            ],
            "examples": [
                {"excluded": True},
                {"report_user_id": 7, "report_at": "2026-12-04T13:00:00Z"},
            ],
        }
    )
    nullable = frozenset({"report_user_id", "report_at"})

    excluded: Flag | None = None
    report_user_id: DbId | None = None
    report_at: datetime | None = None


class ReportFlagsOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "event_id": 88100,
                    "excluded_from_reports": True,
                    "report_user_id": None,
                    "report_at": None,
                    "corrected_by_event_id": None,
                    "change_event_id": 88122,
                }
            ]
        }
    )

    event_id: int
    excluded_from_reports: bool
    report_user_id: int | None
    report_at: datetime | None
    corrected_by_event_id: int | None
    # The report_flags_changed event that recorded the change; None when nothing changed.
    change_event_id: int | None
