"""Redis pub/sub messages that wake agents waiting for a customer and feed live streams.

The worker publishes, the API subscribes; both name the channel through this module. The
channel carries the assignment's hash tag, so on Redis Cluster it lives with the queue's keys.
"""

import json

EVENTS_PREFIX = "nc:events:"


def assignment_channel(assignment_id: int) -> str:
    """`nc:events:{a:<id>}`: everything agents on one assignment may want to hear."""
    return f"{EVENTS_PREFIX}{{a:{assignment_id}}}"


def eligible_message(assignment_id: int) -> str:
    """A customer may have become servable: waiting agents should ask /next again."""
    return json.dumps({"type": "eligible", "assignment_id": assignment_id})
