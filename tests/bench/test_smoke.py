"""The benchmark still runs: a seconds-long smoke of `nextcall bench`, not a timed test.

Tiny data, a few agents, one second per slice (and the connections part's 150 agents for 30 s,
asserting that none of their requests goes unanswered), on the test run's PostgreSQL (a
database of its own, dropped after) and Redis (a db index of its own). It writes only to a
temp directory and asserts that every compared server produced figures, not that any target
is met.
"""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]
SMOKE_DB = "nextcall_bench_smoke"
SMOKE_REDIS_DB = 9
# "base" is this checkout again, through --base: the path that compares two commits in one run.
SERVERS = ("floor", "ideal", "nextcall", "peer", "base")


@pytest.fixture
def bench_urls() -> Iterator[tuple[str, str]]:
    test_db = os.environ["NEXTCALL_TEST_DATABASE_URL"]
    test_redis = os.environ["NEXTCALL_TEST_REDIS_URL"]
    server = test_db.rsplit("/", 1)[0]
    admin = server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {SMOKE_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {SMOKE_DB}")
    redis_url = f"{test_redis.rsplit('/', 1)[0]}/{SMOKE_REDIS_DB}"
    yield f"{server}/{SMOKE_DB}", redis_url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {SMOKE_DB} WITH (FORCE)")
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()


def test_every_scenario_produces_figures(bench_urls: tuple[str, str], tmp_path: Path) -> None:
    database_url, redis_url = bench_urls
    out = tmp_path / "results.json"
    doc = tmp_path / "benchmarks.md"
    env = {
        **os.environ,
        "NEXTCALL_BENCH_DATABASE_URL": database_url,
        "NEXTCALL_BENCH_REDIS_URL": redis_url,
    }
    args = [
        *("--only", "saturation,realistic,rebuild,connections", "--repeats", "1"),
        *("--workers", "1", "--connections-minutes", "0.5", "--connections-agents", "150"),
        *("--customers", "2000", "--seconds", "1", "--warmup", "0.5", "--slice-warmup", "0.2"),
        *("--saturation-agents", "5", "--realistic-agents", "10", "--realistic-interval", "0.5"),
        *("--import-rows", "2000", "--client-procs", "1", "--base", str(ROOT)),
        *("--out", str(out), "--doc", str(doc), "--raw-dir", str(tmp_path / "raw")),
    ]
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    results = json.loads(out.read_text())
    # Closed loops by wrk (the C client), open loops by the Python one.
    assert results["parameters"]["client"] == "wrk"
    for shape in ("saturation-5", "realistic"):
        servers = results["compare"][shape]["servers"]
        assert set(servers) == set(SERVERS)
        for name in SERVERS:
            figure = servers[name]
            assert figure["next_per_s"]["median"] > 0, (shape, name, figure["runs"])
            assert figure["p99_ms"]["median"] > 0, (shape, name)
            assert figure["errors"] == 0, (shape, name, figure["runs"][0]["statuses"])
            # Equal work: each cycle of nextcall, base and the peer wrote one attempt and one
            # event row, read back from the database; floor and ideal write nothing.
            wanted = None if name in ("floor", "ideal") else True
            assert figure["equal_work"] is wanted, (shape, name, figure["runs"][0]["work"])
        before_after = (
            {"nextcall/base", "base/peer"} if shape == "saturation-5" else {"nextcall/base"}
        )
        assert set(results["compare"][shape]["ratios"]) == {
            "nextcall/peer",
            "nextcall/ideal",
            "nextcall/floor",
            *before_after,
        }
    assert results["rebuild"]["runs"][0]["placed"] == 2000
    # The benchmark's connections part for 30 s, at half its load (the test's API has one
    # worker process): 150 agents on keep-alive connections, a cycle every 2 s each; not one
    # request may go unanswered.
    connections = results["connections"]
    assert connections["agents"] == 150
    assert connections["requests"] > 150 * 10, connections
    assert connections["failed"] == 0, connections["statuses"]
    assert len(results["targets"]) == 12
    page = doc.read_text()
    assert "## Targets" in page and "saturation-5" in page
