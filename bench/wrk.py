"""Closed loops driven by wrk, a load generator in C, so that the client is not what is measured.

One wrk thread and one connection per agent (`wrk -t N -c N`), each running
`bench/wrk_cycle.lua`: next, then the cycle's second request (the same as `load.Target.finish`),
timing every request itself. wrk's own percentiles are not used (they add synthetic samples
for slow requests); the script's raw samples are read back into a `LoadResult`, so a figure
from wrk is computed exactly as one from the Python client. wrk's CPU is read from /proc at
the window's edges. Open loops (paced agents) stay with the Python client, which measures
from each cycle's scheduled start.
"""

import asyncio
import math
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.load import LoadResult, Target
from bench.seed import Agent
from bench.servers import cpu_seconds

SCRIPT = Path(__file__).with_name("wrk_cycle.lua")
# After the deadline, time for every agent to finish its cycle and write its samples.
TAIL_S = 2.0
REQUEST_TIMEOUT_S = 10
POLL_S = 0.05


def ensure_wrk() -> str:
    """wrk's path; installed from Debian's packages when missing and this process may."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "wrk"],
            check=True,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed: apt-get install wrk, or --client raw")
    return found


def _files(out_dir: Path) -> int:
    return sum(1 for _ in out_dir.glob("*.txt"))


def read_samples(out_dir: Path, seconds: float, agents: int) -> LoadResult:
    """Every agent's file (see wrk_cycle.lua) merged into one window's result; an agent
    without a file (its cycle never ended after the deadline) counts as an error."""
    result = LoadResult(seconds)
    files = list(out_dir.glob("*.txt"))
    if len(files) < agents:
        result.statuses["agent:no samples"] += agents - len(files)
        result.next_errors += agents - len(files)
    for path in files:
        for line in path.read_text().splitlines():
            tag, _, rest = line.partition(" ")
            if tag == "n":
                start, latency = rest.split()
                result.next_count += 1
                result.starts.append(float(start))
                result.samples.append(float(latency))
            elif tag == "f":
                result.finish_count += 1
                result.finish_samples.append(float(rest))
            elif tag == "e":
                result.statuses[rest] += 1
                if rest.startswith("next:"):
                    result.next_errors += 1
                else:
                    result.finish_errors += 1
            elif tag == "c":
                cycles, empty = rest.split()
                result.cycles_done += int(cycles)
                result.empty_count += int(empty)
    return result


async def drive(
    target: Target,
    agents: list[Agent],
    *,
    health_path: str,
    window_open: float,
    deadline: float,
    on_window: Callable[[bool], Awaitable[None]] | None,
) -> LoadResult:
    """Load `target` with one wrk thread per agent; the window [window_open, deadline) counts."""
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="nextcall-wrk-") as tmp:
        out_dir = Path(tmp)
        config = out_dir / "config"
        config.write_text(
            f"{target.kind} {target.assignment_id} {window_open:.6f} {deadline:.6f} "
            f"{out_dir} {health_path}\n" + "".join(f"{a.user_id} {a.token}\n" for a in agents)
        )
        n = len(agents)
        duration = math.ceil(deadline + TAIL_S - time.time()) + 1
        proc = await asyncio.create_subprocess_exec(
            *(wrk, "-t", str(n), "-c", str(n), "-d", f"{duration}s"),
            *("--timeout", f"{REQUEST_TIMEOUT_S}s", "-s", str(SCRIPT)),
            f"http://127.0.0.1:{target.port}",
            env={**os.environ, "NEXTCALL_WRK_CONFIG": str(config)},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        await asyncio.sleep(max(0.0, window_open - time.time()))
        if on_window is not None:
            await on_window(True)
        cpu0 = cpu_seconds(proc.pid)
        await asyncio.sleep(max(0.0, deadline - time.time()))
        cpu = cpu_seconds(proc.pid) - cpu0
        if on_window is not None:
            await on_window(False)
        # wrk runs whole seconds; stop it once every agent has written its samples.
        for _ in range(int(TAIL_S / POLL_S)):
            if _files(out_dir) >= n:
                break
            await asyncio.sleep(POLL_S)
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        _, err = await proc.communicate()
        if proc.returncode not in (0, -signal.SIGINT):
            raise RuntimeError(f"wrk failed ({proc.returncode}): {err.decode()[-2000:]}")
        result = read_samples(out_dir, deadline - window_open, n)
        result.client_cpu_s = [cpu]
        return result
