"""Rule 14 and DESIGN section 4: /next is one Redis claim and at most one primary-key read."""

from typing import Any

from fastapi import FastAPI
from sqlalchemy import event

from tests.api.world import World


class TestNextCost:
    async def test_one_database_statement_and_one_claim_script(
        self, world: World, app: FastAPI
    ) -> None:
        resources = app.state.resources
        resources.assignments.ttl_s = 60.0  # the production shape: configuration is cached
        await world.customers([{} for _ in range(3)])
        assert (await world.next(agent=0)).json()["status"] == "claimed"  # warms the caches
        await world.client.get("/v1/me", headers=world.auth(world.agents[1][1]))  # and the token

        statements: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        sync_engine = resources.engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", count)
        before = await world.redis.info("commandstats")
        direct_before = resources.store.pool.executed
        try:
            card = (await world.next(agent=1)).json()
        finally:
            event.remove(sync_engine, "before_cursor_execute", count)
        after = await world.redis.info("commandstats")

        assert card["status"] == "claimed"
        # The card read runs on the direct pool (shared/infra/directdb.py), not through the engine.
        assert statements == []
        assert resources.store.pool.executed - direct_before == 1
        scripts = after["cmdstat_evalsha"]["calls"] - before["cmdstat_evalsha"]["calls"]
        assert scripts == 1
        assert "cmdstat_eval" not in after or after.get("cmdstat_eval") == before.get(
            "cmdstat_eval"
        )
