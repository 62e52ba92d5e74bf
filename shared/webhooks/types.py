"""What a webhook reports: its types, and the message a change leaves in the outbox."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class WebhookType(StrEnum):
    outcome_registered = "outcome.registered"
    attempt_registered = "attempt.registered"
    followup_due = "followup.due"
    customer_moved = "customer.moved"
    dial_result = "dial.result"
    agent_state = "agent.state_changed"


@dataclass(frozen=True, slots=True)
class Message:
    """One webhook message: its type, its `data`, and the key that orders it among others
    to the same endpoint (`customer_key`, `agent_key`; None: no order)."""

    type: WebhookType
    data: Mapping[str, Any]
    order_key: str | None
    at: datetime


def customer_key(customer_id: int) -> str:
    return f"customer:{customer_id}"


def agent_key(user_id: int) -> str:
    return f"agent:{user_id}"


# The event columns a webhook carries; the customer's personal fields stay out (the receiver
# reads the customer by id if it may).
_EVENT_FIELDS = (
    "customer_id",
    "assignment_id",
    "user_id",
    "kind",
    "code",
    "from_state",
    "to_state",
    "comment",
    "data",
)


def event_columns(event: Any) -> dict[str, Any]:
    """The columns a webhook carries, of an Event row."""
    return {name: getattr(event, name) for name in _EVENT_FIELDS}


def event_message(
    type: WebhookType, event: Mapping[str, Any], *, event_id: int, at: datetime
) -> Message:
    """The message of an event row (its columns as the hot path's write has them)."""
    data = {"event_id": event_id} | {name: event.get(name) for name in _EVENT_FIELDS}
    return Message(type, data, customer_key(int(event["customer_id"])), at)


def body(message_id: str, message: Message) -> dict[str, Any]:
    """The JSON body sent: Standard Webhooks' `type`, `timestamp` and `data`, and the id."""
    return {
        "id": message_id,
        "type": message.type.value,
        "timestamp": message.at.isoformat(),
        "data": dict(message.data),
    }
