"""Smoke tests: the test run really provides PostgreSQL and Redis.

``scripts/test`` starts throw-away servers and exports their URLs; these tests
fail loudly when that did not happen instead of silently skipping.
"""

import os
import uuid

import psycopg
import pytest
import redis


def _require_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set; run the test suite through scripts/test")
    return value


def test_postgresql_is_running() -> None:
    url = _require_env("NEXTCALL_TEST_DATABASE_URL").replace(
        "postgresql+psycopg://", "postgresql://", 1
    )
    with psycopg.connect(url, connect_timeout=10) as conn:
        row = conn.execute("SELECT version()").fetchone()
    assert row is not None
    assert "PostgreSQL" in row[0]


def test_redis_is_running() -> None:
    url = _require_env("NEXTCALL_TEST_REDIS_URL")
    client = redis.Redis.from_url(url, socket_connect_timeout=10)
    try:
        key = f"nextcall:test-infrastructure:{uuid.uuid4().hex}"
        assert client.set(key, "ok", ex=60)
        assert client.get(key) == b"ok"
        client.delete(key)
    finally:
        client.close()
