"""Every paged list of the API: where it is, how to add a row to it, and which item is which."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tests.api.pagination import agents, care
from tests.api.pagination.desk import Desk

MY_WORK_LIST = "/v1/my-work/{which}"


@dataclass(frozen=True)
class PagedList:
    path: str  # with {user_id}, {assignment_id}, {customer_id}, {import_id}, {endpoint_id}
    add: Callable[[Desk], Awaitable[Any]]  # one more row; returns its identity in the list
    ident: str = "id"  # the item's member that identifies the row ("user.id": nested)
    params: Callable[[Desk], dict[str, str]] = lambda desk: {}
    operation: str = ""  # the schema's path, when it is not `path`

    def url(self, desk: Desk) -> str:
        return self.path.format(
            user_id=desk.admin.id,
            assignment_id=desk.assignment.id,
            customer_id=desk.customer.id,
            import_id=desk.job.id,
            endpoint_id=desk.endpoint.id,
        )


def _my_work(which: str, add: Callable[[Desk], Awaitable[Any]]) -> PagedList:
    return PagedList(
        f"/v1/my-work/{which}",
        add,
        ident="customer_id",
        params=lambda desk: {"tz": desk.zone},
        operation=MY_WORK_LIST,
    )


LISTS = {
    "users": PagedList("/v1/users", Desk.user),
    "tokens": PagedList("/v1/tokens", Desk.api_token),
    "user tokens": PagedList("/v1/users/{user_id}/tokens", Desk.api_token),
    "flows": PagedList("/v1/flows", Desk.flow_row),
    "assignments": PagedList("/v1/assignments", Desk.assignment_row),
    "segments": PagedList("/v1/assignments/{assignment_id}/segments", Desk.segment),
    "custom fields": PagedList("/v1/custom-fields", Desk.custom_field),
    "blocked phones": PagedList("/v1/blocked-phones", Desk.blocked_phone),
    "registers": PagedList("/v1/registers", Desk.register),
    "consents": PagedList("/v1/customers/{customer_id}/consents", Desk.consent),
    "events": PagedList("/v1/customers/{customer_id}/events", Desk.event),
    "audit log": PagedList("/v1/audit-log", Desk.audit_entry),
    "search": PagedList(
        "/v1/customers/search", Desk.found_customer, params=lambda desk: {"q": "walk"}
    ),
    "imports": PagedList("/v1/imports", Desk.import_job),
    "import errors": PagedList("/v1/imports/{import_id}/errors", Desk.rejected_row, ident="line"),
    "bulk jobs": PagedList("/v1/bulk-jobs", Desk.bulk_job),
    "personal today": _my_work("personal-today", Desk.personal),
    "shared today": _my_work("shared-today", Desk.shared),
    # Every other one without a time: those come last.
    "to follow up": _my_work(
        "to-follow-up", lambda desk: desk.personal(timed=next(desk.numbers) % 2 == 0)
    ),
    "passed personal": _my_work("passed-personal", lambda desk: desk.personal(-1)),
    "passed shared": _my_work("passed-shared", lambda desk: desk.shared(-1)),
    "to correct": PagedList("/v1/my-work/to-correct", Desk.to_correct, ident="correction_id"),
    "pipeline services": PagedList("/v1/pipeline/services", care.service),
    "pipeline colleagues": PagedList(
        "/v1/pipeline/colleagues",
        care.colleague,
        ident="user.id",
        params=lambda desk: {"q": "walker"},
    ),
    "pipeline contacts": PagedList(
        "/v1/pipeline/contacts/search", Desk.found_customer, params=lambda desk: {"q": "walk"}
    ),
    "pipeline requests": PagedList("/v1/pipeline/requests", care.request),
    "pipeline tasks": PagedList("/v1/pipeline/tasks", care.task),
    "pipeline delegations": PagedList("/v1/pipeline/delegations", care.delegation),
    "agent states": PagedList("/v1/agents/states", agents.agent_state, ident="user_id"),
    "webhook endpoints": PagedList("/v1/webhooks/endpoints", Desk.webhook_endpoint),
    "webhook deliveries": PagedList(
        "/v1/webhooks/endpoints/{endpoint_id}/deliveries", Desk.webhook_delivery
    ),
}
