"""Telling a replayed write from a refused one (decision 025).

When an attempt or outcome settles its lease, the settle leaves a receipt under the lease's
token: who wrote, the event it wrote, and a fingerprint of the request. A write that then finds
its lease gone reads that receipt in the same round trip as the renew (no extra Redis call), and
when it is the same request from the same user, the answer is "already recorded" with the event
id, not the lost-lease 409: the app knows its first try went through.
"""

import hashlib

from pydantic import BaseModel

from services.api.errors import Conflict
from services.queue import NotHolder

ALREADY_RECORDED = "already_recorded"


def fingerprint(operation: str, body: BaseModel) -> str:
    """The request as parsed: the same fields and values give the same fingerprint."""
    text = f"{operation}\n{body.model_dump_json()}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def receipt(user_id: int, event_id: int, request: str) -> str:
    return f"{user_id}|{event_id}|{request}"


def already_recorded(exc: NotHolder, *, user_id: int, request: str) -> Conflict | None:
    """The 409 for a replay of the write that settled this lease, or None when it was not."""
    writer, _, rest = exc.receipt.partition("|")
    event_id, _, settled_request = rest.partition("|")
    if writer != str(user_id) or settled_request != request or not event_id.isdigit():
        return None
    return Conflict(
        f"already recorded: this request was written as event {event_id}; nothing more was written",
        code=ALREADY_RECORDED,
        event_id=int(event_id),
    )
