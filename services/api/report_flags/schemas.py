"""Report flags of one event (rule 27)."""

from datetime import datetime

from pydantic import BaseModel

from services.api.fields import DbId


class ReportFlagsChange(BaseModel):
    """Only the fields sent change; `null` puts a re-attribution back to the event's own
    user or time."""

    excluded: bool | None = None
    report_user_id: DbId | None = None
    report_at: datetime | None = None


class ReportFlagsOut(BaseModel):
    event_id: int
    excluded_from_reports: bool
    report_user_id: int | None
    report_at: datetime | None
    corrected_by_event_id: int | None
    # The report_flags_changed event that recorded the change; None when nothing changed.
    change_event_id: int | None
