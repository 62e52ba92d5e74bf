"""Delivery of the webhook outbox (decision 037): sign, send, retry with backoff, dead-letter.

Runs beside the scheduler's ticks in the scheduler process, as an asyncio task: sending is
waiting on sockets, and a slow receiver must never delay a tick (follow-ups are served
within 1 s). Several worker replicas deliver side by side: a delivery is taken with a
conditional UPDATE (`locked_until`), so one replica sends it; a replica killed mid-send
leaves a lock that expires, and another sends it again (receivers deduplicate by
`webhook-id`, which is the same on every try).

Order: a delivery is sent only when no earlier one of the same endpoint and order key
(customer, agent) is still pending. A receiver that is down holds back each customer's later
messages behind the first, which is retried on the schedule; other customers' first messages
are tried meanwhile. A dead letter holds nothing back: the dead-letter list is for a person
to look at and replay.
"""

import asyncio
import json
import logging
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from shared.infra.settings import Settings
from shared.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from shared.webhooks import signing
from shared.webhooks.targets import TargetRefused, resolve

log = logging.getLogger(__name__)

# Deliveries taken per pass; a full pass is followed by the next at once.
BATCH = 100
# Requests in flight at once per worker replica.
CONCURRENCY = 16
# Each delay of the schedule is varied by up to this fraction either way (jitter).
JITTER = 0.25
PENDING = DeliveryStatus.pending.value

_D = WebhookDelivery
_E = WebhookEndpoint


@dataclass(frozen=True, slots=True)
class Due:
    id: int
    url: str
    secret: str
    message_id: str
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True, slots=True)
class Tried:
    due: Due
    status: int | None  # the receiver's HTTP status; None when it gave none
    error: str | None  # why it failed, in our words (never the receiver's body)

    @property
    def ok(self) -> bool:
        return self.error is None


def _earlier_pending() -> Any:
    before = aliased(WebhookDelivery)
    return exists().where(
        before.endpoint_id == _D.endpoint_id,
        before.order_key == _D.order_key,
        before.status == PENDING,
        before.id < _D.id,
    )


class Deliverer:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        delays_s: Sequence[float],
        allow_private: bool,
        timeout_s: float,
        batch: int = BATCH,
        rng: random.Random | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.client = client
        self.delays_s = list(delays_s)
        self.allow_private = allow_private
        self.timeout_s = timeout_s
        # Longer than any one send can take, so a lock only outlives a dead worker.
        self.lock = timedelta(seconds=2 * timeout_s + 30)
        self.batch = batch
        self.rng = rng or random.Random()

    @classmethod
    def for_settings(
        cls,
        settings: Settings,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
    ) -> "Deliverer":
        return cls(
            sessionmaker=sessionmaker,
            client=client,
            delays_s=settings.webhook_retry_delays_s,
            allow_private=settings.webhook_allow_private_targets,
            timeout_s=settings.webhook_timeout_s,
        )

    async def deliver_due(self, *, now: datetime | None = None) -> int:
        """One pass: take the due deliveries, send them, record each try. Returns how many."""
        at = now or datetime.now(UTC)
        due = await self._take(at)
        if not due:
            return 0
        limit = asyncio.Semaphore(CONCURRENCY)

        async def one(d: Due) -> Tried:
            async with limit:
                return await self.send(d)

        tried = await asyncio.gather(*(one(d) for d in due))
        await self._record(tried, at=datetime.now(UTC))
        return len(tried)

    async def _take(self, now: datetime) -> list[Due]:
        """The due deliveries at the head of their order, locked for this replica."""
        query = (
            select(_D.id, _E.url, _E.secret, _D.message_id, _D.payload, _D.attempts)
            .join(_E, _E.id == _D.endpoint_id)
            .where(
                _D.status == PENDING,
                _D.next_attempt_at <= now,
                or_(_D.locked_until.is_(None), _D.locked_until < now),
                _E.enabled.is_(True),
                ~_earlier_pending(),
            )
            .order_by(_D.id)
            .limit(self.batch)
        )
        async with self.sessionmaker() as session:
            found = {row[0]: Due(*row) for row in await session.execute(query)}
            if not found:
                return []
            locked = await session.scalars(
                update(_D)
                .where(
                    _D.id.in_(list(found)),
                    _D.status == PENDING,
                    or_(_D.locked_until.is_(None), _D.locked_until < now),
                )
                .values(locked_until=now + self.lock)
                .returning(_D.id)
            )
            taken = [found[i] for i in sorted(locked)]
            await session.commit()
        return taken

    async def send(self, due: Due) -> Tried:
        """One try: the signed POST; any 2xx is delivered."""
        body = json.dumps(due.payload, separators=(",", ":")).encode()
        headers = signing.headers(due.secret, due.message_id, int(time.time()), body)
        headers["user-agent"] = "nextcall-webhooks"
        try:
            await resolve(due.url, allow_private=self.allow_private)
            # Streamed and left unread: only the status counts, whatever size the body is.
            async with self.client.stream(
                "POST", due.url, content=body, headers=headers, timeout=self.timeout_s
            ) as answer:
                status = answer.status_code
        except TargetRefused as exc:
            return Tried(due, None, str(exc)[:200])
        except httpx.TimeoutException:
            return Tried(due, None, "timed out")
        except httpx.ConnectError:
            return Tried(due, None, "could not connect")
        except httpx.HTTPError as exc:
            return Tried(due, None, f"request failed ({type(exc).__name__})")
        if 200 <= status < 300:
            return Tried(due, status, None)
        return Tried(due, status, f"answered {status}")

    def retry_delay(self, attempts: int) -> float | None:
        """Seconds until the next try after `attempts` failed ones; None: none left."""
        if attempts > len(self.delays_s):
            return None
        return self.delays_s[attempts - 1] * self.rng.uniform(1 - JITTER, 1 + JITTER)

    async def _record(self, tried: Sequence[Tried], *, at: datetime) -> None:
        async with self.sessionmaker() as session:
            for t in tried:
                attempts = t.due.attempts + 1
                values: dict[str, Any] = {
                    "attempts": attempts,
                    "last_attempt_at": at,
                    "last_status": t.status,
                    "last_error": t.error,
                    "locked_until": None,
                }
                if t.ok:
                    values |= {"status": DeliveryStatus.delivered.value, "delivered_at": at}
                elif (delay := self.retry_delay(attempts)) is None:
                    values["status"] = DeliveryStatus.dead.value
                else:
                    values["next_attempt_at"] = at + timedelta(seconds=delay)
                await session.execute(update(_D).where(_D.id == t.due.id).values(values))
            await session.commit()
        failed = sum(1 for t in tried if not t.ok)
        log.info("webhooks.delivered sent=%d failed=%d", len(tried) - failed, failed)

    async def run(self, *, interval_s: float, stop: threading.Event) -> None:
        """Deliver until `stop` is set; a failed pass is logged, not fatal."""
        while not stop.is_set():
            try:
                while await self.deliver_due() >= self.batch and not stop.is_set():
                    pass  # a backlog: the next pass at once
            except Exception:
                log.exception("webhooks.pass_failed")
            await asyncio.sleep(interval_s)
