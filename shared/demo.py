"""The flow of the seeds' outbound sales product, used by the demo data and the tests."""

from typing import Any

SEED_FLOW: dict[str, list[dict[str, Any]]] = {
    "states": [
        {"key": "free", "name": "Free", "kind": "free"},
        {"key": "interested", "name": "Interested, follow up", "kind": "progressive"},
        {"key": "sale", "name": "Sale", "kind": "final"},
        {"key": "not_interested", "name": "Not interested", "kind": "final"},
        {"key": "wrong_number", "name": "Wrong number", "kind": "final"},
    ],
    "outcomes": [
        {
            "code": "interested",
            "name": "Interested",
            "from_states": ["free"],
            "to_state": "interested",
            "follow_up": "personal",
            "follow_up_time_required": True,
        },
        {"code": "sale", "name": "Sale", "from_states": ["free", "interested"], "to_state": "sale"},
        {
            "code": "not_interested",
            "name": "Not interested",
            "from_states": ["free", "interested"],
            "to_state": "not_interested",
        },
        {
            "code": "wrong_number",
            "name": "Wrong number",
            "from_states": ["free", "interested"],
            "to_state": "wrong_number",
        },
    ],
}
