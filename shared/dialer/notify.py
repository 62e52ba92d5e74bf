"""What an integration hears when an agent's state changes (the webhooks deliver it)."""

from datetime import datetime


def agent_state_changed(
    *,
    tenant_id: int,
    user_id: int,
    state: str,
    previous: str,
    assignment_id: int | None,
    reason: str,
    at: datetime,
) -> None:
    """Called after every committed change of an agent's state; nothing listens yet."""
