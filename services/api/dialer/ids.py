"""Dial ids: "<assignment>.<customer>.<reservation token>" (tokens never hold a dot), so a
result finds its reservation in Redis without a database read."""

from shared.errors import NotFound
from shared.infra.storable import MAX_BIGINT

DIAL_ID_PATTERN = r"^[0-9]{1,19}\.[0-9]{1,19}\.[A-Za-z0-9_-]{1,60}$"


def dial_id_of(assignment_id: int, customer_id: int, token: str) -> str:
    return f"{assignment_id}.{customer_id}.{token}"


def parse_dial_id(dial_id: str) -> tuple[int, int, str]:
    assignment, customer, token = [*dial_id.split("."), "", "", ""][:3]
    if not (assignment.isdigit() and customer.isdigit() and token):
        raise NotFound(f"dial {dial_id} not found")
    if max(int(assignment), int(customer)) > MAX_BIGINT:
        raise NotFound(f"dial {dial_id} not found")  # no such ids: they would not fit a column
    return int(assignment), int(customer), token
