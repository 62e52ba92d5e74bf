"""Prometheus metrics: what every process recorded, and the queues read at scrape time.

Several API processes (uvicorn --workers) and the worker's forked work-horses record into one
directory in multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set by `nextcall`); any process can
answer a scrape, because it aggregates the files of all of them. What the queues hold is read
from Redis (queues.py), so every process gives the same answer too.
"""

import logging
import os
from collections.abc import Iterable, Sequence

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from services.api.deps import Res
from services.api.metrics.agents import agent_families
from services.api.metrics.queues import queue_families
from services.api.resources import Resources
from shared.infra import metrics as _metrics  # noqa: F401  (declares every metric of nextcall)
from shared.models import Assignment

log = logging.getLogger(__name__)

router = APIRouter(tags=["ops"])


class _Families:
    """A collector of metric families computed beforehand."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self._families


class _Delegate:
    """Everything a registry holds, as one collector of a throwaway registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterable[Metric]:
        return self._registry.collect()


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, resources: Res) -> Response:
    queues = await _queue_families(resources)
    registry = CollectorRegistry()
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        MultiProcessCollector(registry)
    else:
        registry.register(_Delegate(REGISTRY))
    registry.register(_Families(queues))
    encoder, content_type = choose_encoder(request.headers.get("accept", ""))
    # Reading the multiprocess files is blocking file I/O: keep it off the event loop.
    body = await run_in_threadpool(encoder, registry)
    return Response(body, media_type=content_type)


async def _queue_families(resources: Resources) -> list[Metric]:
    try:
        async with resources.sessionmaker() as session:
            ids: Sequence[int] = list(
                await session.scalars(
                    select(Assignment.id).where(Assignment.active.is_(True)).order_by(Assignment.id)
                )
            )
            agents = await agent_families(session)
        return [*await queue_families(resources.redis, ids), *agents]
    except Exception:
        # The process's own metrics still answer when the database or Redis does not.
        log.warning("metrics.queue_read_failed", exc_info=True)
        return []
