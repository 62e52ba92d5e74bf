"""Client processes: a slice's agents spread over several load generators.

One asyncio process cannot drive 1,000 paced agents or 200 saturating ones on this machine
without becoming what is measured, so each slice runs in `procs` processes (a pool started
once, by spawn: no inherited connections or event loop), which start together at an agreed
wall-clock moment. Each reports its own CPU: `LoadResult.client_busy` says when a client
process was near a full core, and the report then flags the figure.

With `client="wrk"` (the default), closed loops are driven by wrk instead (`bench/wrk.py`):
the Python client held every fast server back (issue 18). Open loops, and parts that read
what the answers carry (follow-up lateness), stay with the Python client.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from types import TracebackType

import uvloop

from bench import wrk
from bench.load import LoadResult, LoadSpec, Target, run_load
from bench.seed import Agent

# Time the client processes get to receive their part and open their loops.
START_MARGIN_S = 0.3

Window = Callable[[bool], Awaitable[None]]


def _run(spec: LoadSpec) -> LoadResult:
    return uvloop.run(run_load(spec))


def _warm() -> None:
    """Imports done before the first slice, not during it."""


class Clients:
    def __init__(self, procs: int, *, client: str = "wrk") -> None:
        self.procs = max(1, procs)
        self.client = client
        # The Python client's kind where wrk is not used.
        self.python = "raw" if client == "wrk" else client
        self._pool = ProcessPoolExecutor(self.procs, mp_context=get_context("spawn"))

    def __enter__(self) -> "Clients":
        for future in [self._pool.submit(_warm) for _ in range(self.procs)]:
            future.result()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self._pool.shutdown(cancel_futures=True)

    async def drive(
        self,
        target: Target,
        agents: list[Agent],
        *,
        seconds: float,
        warmup: float,
        interval: float | None = None,
        on_window: Window | None = None,
        health_path: str = "/health",
        python: bool = False,
    ) -> LoadResult:
        """Load `target` with `agents` for warm-up + `seconds`; the window's figures, merged.

        Paced agents start spread evenly over one interval, not all at once. A closed loop
        goes to wrk unless the client is a Python one or `python` asks for it.
        """
        loop = asyncio.get_running_loop()
        window_open = time.time() + START_MARGIN_S + warmup
        deadline = window_open + seconds
        if self.client == "wrk" and interval is None and not python:
            return await wrk.drive(
                target,
                agents,
                health_path=health_path,
                window_open=window_open,
                deadline=deadline,
                on_window=on_window,
            )
        spread = interval or 0.0
        offsets = [(a, spread * i / max(1, len(agents))) for i, a in enumerate(agents)]
        parts = [offsets[i :: self.procs] for i in range(self.procs)]
        futures = [
            loop.run_in_executor(
                self._pool,
                _run,
                LoadSpec(target, part, window_open, deadline, interval, self.python),
            )
            for part in parts
            if part
        ]
        if on_window is not None:
            await asyncio.sleep(max(0.0, window_open - time.time()))
            await on_window(True)
            await asyncio.sleep(max(0.0, deadline - time.time()))
            await on_window(False)
        merged = LoadResult(seconds)
        for part_result in await asyncio.gather(*futures):
            merged.merge(part_result)
        return merged
