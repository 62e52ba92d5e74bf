"""What Redis keeps for one Idempotency-Key: the request's fingerprint and, once the first
request has finished, its answer. In Redis so that every API process sees it."""

import base64
import hashlib
import json
from dataclasses import dataclass

from redis.asyncio import Redis

from services.queue import keys

# How long a key's answer is kept.
KEEP_S = 24 * 3600
# How long a key stays claimed by a request still running: past it (the process died), a retry
# runs the request again. Longer than any write takes, imports' uploads included.
RUNNING_S = 120


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass(frozen=True, slots=True)
class Record:
    fingerprint: str
    # None while the first request runs.
    answer: Answer | None


def fingerprint(path: str, query: bytes, body: bytes) -> str:
    """The operation (path and query) and the body, byte for byte."""
    digest = hashlib.sha256()
    for part in (path.encode(), query, body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def record_key(tenant_id: int, user_id: int, idempotency_key: str) -> str:
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()
    return keys.idempotency(tenant_id, user_id, digest)


async def claim(redis: Redis, key: str, fingerprint: str) -> Record | None:
    """None when this request now owns the key (it runs); else what the key holds."""
    running = json.dumps({"fp": fingerprint})
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(key, running, nx=True, ex=RUNNING_S)
        pipe.get(key)
        claimed, current = await pipe.execute()
    if claimed:
        return None
    return _decode(current)


async def keep(redis: Redis, key: str, fingerprint: str, answer: Answer) -> None:
    record = {
        "fp": fingerprint,
        "status": answer.status,
        "headers": [[n.decode("latin-1"), v.decode("latin-1")] for n, v in answer.headers],
        "body": base64.b64encode(answer.body).decode(),
    }
    await redis.set(key, json.dumps(record), ex=KEEP_S)


async def forget(redis: Redis, key: str) -> None:
    await redis.delete(key)


def _decode(raw: str) -> Record:
    data = json.loads(raw)
    if "status" not in data:
        return Record(data["fp"], None)
    headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in data["headers"]]
    answer = Answer(int(data["status"]), headers, base64.b64decode(data["body"]))
    return Record(data["fp"], answer)
