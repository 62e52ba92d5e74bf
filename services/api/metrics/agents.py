"""Agents per state, read from the database at scrape time (rule 35): one small grouped count,
no user ids as labels."""

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import AgentState, AgentStateRow


async def agent_families(session: AsyncSession) -> list[Metric]:
    query = select(AgentStateRow.state, func.count()).group_by(AgentStateRow.state)
    counts = {str(state): int(n) for state, n in (await session.execute(query)).all()}
    family = GaugeMetricFamily(
        "nextcall_agents",
        "Agents in each state now (signed off: those that ever signed in).",
        labels=["state"],
    )
    for state in AgentState:
        family.add_metric([state.value], counts.get(state.value, 0))
    return [family]
