"""Setting an event's report flags, recorded as a report_flags_changed event (rule 27).

Needs the correction permission: changing what the reports count corrects the record, and
the reporting permission is for reading reports, so it does not let anyone alter them.
"""

from typing import Any

from services.api.auth.cache import Principal
from services.api.corrections.common import active_user, locked_event
from services.api.errors import Unprocessable
from services.api.report_flags.schemas import ReportFlagsChange, ReportFlagsOut
from services.api.resources import Resources
from shared.infra.timeutil import as_utc, iso_or_none
from shared.models import Event, EventKind


async def change_report_flags(
    res: Resources, principal: Principal, event_id: int, body: ReportFlagsChange
) -> ReportFlagsOut:
    sent = body.model_fields_set
    if not sent:
        raise Unprocessable("give excluded, report_user_id or report_at")
    async with res.session() as session:
        event = await locked_event(session, principal.tenant_id, event_id)
        if body.report_user_id is not None:
            await active_user(session, principal.tenant_id, body.report_user_id, "report user")
        before = _flags(event)
        if body.excluded is not None:
            event.excluded_from_reports = body.excluded
        if "report_user_id" in sent:
            event.report_user_id = body.report_user_id
        if "report_at" in sent:
            event.report_at = as_utc(body.report_at) if body.report_at else None
        after = _flags(event)
        change_id = None
        if after != before:
            change = Event(
                tenant_id=principal.tenant_id,
                customer_id=event.customer_id,
                assignment_id=event.assignment_id,
                user_id=principal.user_id,
                kind=EventKind.report_flags_changed,
                data={"event_id": event.id, "before": before, "after": after},
            )
            session.add(change)
            await session.flush()
            change_id = change.id
        return ReportFlagsOut(
            event_id=event.id,
            excluded_from_reports=event.excluded_from_reports,
            report_user_id=event.report_user_id,
            report_at=event.report_at,
            corrected_by_event_id=event.corrected_by_event_id,
            change_event_id=change_id,
        )


def _flags(event: Event) -> dict[str, Any]:
    return {
        "excluded_from_reports": event.excluded_from_reports,
        "report_user_id": event.report_user_id,
        "report_at": iso_or_none(event.report_at),
    }
