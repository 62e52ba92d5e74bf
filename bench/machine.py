"""The machine a run measured: what it is, and how fast it is at what a request is made of."""

import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import redis as redis_sync

from bench.infra import Infra


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return info


def calibrate(infra: Infra) -> dict[str, float]:
    """How fast this machine is at what /next is made of: Python and loopback round trips.

    Absolute figures of different machines compare only through numbers like these.
    """
    out: dict[str, float] = {}
    c0 = time.process_time()
    x = 0
    for i in range(1_000_000):
        x += i
    out["python_1m_adds_ms"] = round((time.process_time() - c0) * 1000, 1)
    client = redis_sync.Redis.from_url(infra.redis_url)
    conninfo = infra.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for name, call in (
            ("redis_ping", client.ping),
            ("pg_empty_query", lambda: conn.execute(";")),
        ):
            for _ in range(200):
                call()
            c0, w0 = time.process_time(), time.perf_counter()
            for _ in range(2000):
                call()
            out[f"{name}_wall_us"] = round((time.perf_counter() - w0) / 2000 * 1e6, 1)
            out[f"{name}_client_cpu_us"] = round((time.process_time() - c0) / 2000 * 1e6, 1)
    client.close()
    return out
