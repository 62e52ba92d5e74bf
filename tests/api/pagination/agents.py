"""One more row of the agents' states list, on a walk's desk (decision 035)."""

from shared.models import AgentState, AgentStateRow
from tests.api.pagination.desk import Desk


async def agent_state(desk: Desk) -> int:
    """An agent ready in the desk's assignment; the list is by user id."""
    user_id = await desk.user()
    row = AgentStateRow(
        user_id=user_id,
        tenant_id=desk.tenant.id,
        state=AgentState.ready.value,
        assignment_id=desk.assignment.id,
        reason="",
        since=desk.now,
        version=1,
    )
    await desk.saved(row)
    return user_id
