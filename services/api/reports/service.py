"""The activity report (rule 29): checks the query, names the rows, shapes JSON and CSV."""

from collections.abc import Mapping
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Response
from fastapi.responses import JSONResponse
from sqlalchemy import select

from services.api.auth.cache import Principal
from services.api.errors import NotFound, Unprocessable
from services.api.reports import csv_out
from services.api.reports.reporting import GROUP_KEYS, Activity, ActivityQuery, GroupKey, activity
from services.api.reports.schemas import (
    MAX_RANGE_DAYS,
    ActivityParams,
    ActivityReportOut,
    ReportFormat,
)
from services.api.resources import Resources
from shared.membership.attempts import AttemptKind
from shared.models import Assignment, Permission, User

ATTEMPT_KINDS = tuple(k.value for k in AttemptKind)


def _group_by(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in GROUP_KEYS]
    if unknown:
        raise Unprocessable(
            f"group_by: unknown {', '.join(unknown)}; choose from {', '.join(GROUP_KEYS)}"
        )
    return names


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Unprocessable(f"tz: unknown time zone '{name}'") from exc


def _check_range(first: date, last: date) -> None:
    if last < first:
        raise Unprocessable("to: must not be before from")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise Unprocessable(f"the range is longer than {MAX_RANGE_DAYS} days: ask in parts")


def _metrics(counts: Activity, *, with_money: bool) -> dict[str, Any]:
    metrics: dict[str, Any] = {
        "outcomes": dict(sorted(counts.outcomes.items())),
        # Every attempt kind, so columns stay the same from one report to the next.
        "attempts": {**dict.fromkeys(ATTEMPT_KINDS, 0), **dict(sorted(counts.attempts.items()))},
        "sales": counts.sales,
        "sold_units": counts.sold_units,
        "products_offered": counts.products_offered,
        "followups_kept": counts.followups_kept,
        "followups_passed": counts.followups_passed,
    }
    if with_money:
        # Absent, not zero, without the revenue permission (DESIGN 3.8).
        metrics["money"] = dict(sorted(counts.money.items()))
    return metrics


def _sort_key(key: GroupKey) -> tuple[tuple[bool, Any], ...]:
    return tuple((v is None, v if v is not None else 0) for v in key)


def _labels(
    group_by: tuple[str, ...],
    key: GroupKey,
    users: Mapping[int, User],
    assignments: Mapping[int, str],
) -> dict[str, Any]:
    labels: dict[str, Any] = {}
    for name, value in zip(group_by, key, strict=True):
        if name == "assignment":
            labels["assignment_id"] = value
            labels["assignment_name"] = assignments.get(value, "")
        elif name == "user":
            labels["user_id"] = value
            user = users.get(value)
            labels["user_name"] = user.name if user is not None else ""
        else:
            labels[name] = value
    return labels


async def activity_report(
    res: Resources,
    principal: Principal,
    params: ActivityParams,
    fmt: ReportFormat,
    style: csv_out.CsvStyle = csv_out.CsvStyle.plain,
) -> Response:
    group_by = _group_by(params.group_by)
    tz = _zone(params.tz)
    _check_range(params.first_day, params.last_day)
    async with res.session() as session:
        tenant_users = await session.scalars(
            select(User).where(User.tenant_id == principal.tenant_id)
        )
        users = {u.id: u for u in tenant_users}
        assignments: dict[int, str] = {
            row.id: row.name
            for row in await session.execute(
                select(Assignment.id, Assignment.name).where(
                    Assignment.tenant_id == principal.tenant_id
                )
            )
        }
        if params.assignment_id is not None and params.assignment_id not in assignments:
            raise NotFound(f"assignment {params.assignment_id} not found")
        if params.user_id is not None and params.user_id not in users:
            raise NotFound(f"user {params.user_id} not found")
        user_ids: set[int] | None = None
        if params.team is not None:
            user_ids = {u.id for u in users.values() if u.team == params.team}
        if params.user_id is not None:
            user_ids = {params.user_id} & (user_ids if user_ids is not None else {params.user_id})
        query = ActivityQuery(
            tenant_id=principal.tenant_id,
            first_day=params.first_day,
            last_day=params.last_day,
            tz=tz,
            group_by=group_by,
            assignment_id=params.assignment_id,
            user_ids=frozenset(user_ids) if user_ids is not None else None,
        )
        counted = await activity(session, query, team_of={u.id: u.team for u in users.values()})

    with_money = principal.has(Permission.revenue.value)
    rows = [
        {
            **_labels(group_by, key, users, assignments),
            **_metrics(counted[key], with_money=with_money),
        }
        for key in sorted(counted, key=_sort_key)
    ]
    totals = Activity()
    for counts in counted.values():
        totals.add(counts)
    if fmt == ReportFormat.csv:
        name = f"activity-{params.first_day}-{params.last_day}.csv"
        return Response(
            csv_out.table(rows, style),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    report = ActivityReportOut(
        from_=params.first_day,
        to=params.last_day,
        tz=params.tz,
        group_by=list(group_by),
        rows=rows,
        totals=_metrics(totals, with_money=with_money),
    )
    return JSONResponse(report.model_dump(mode="json", by_alias=True))
