"""The `nextcall` command: the one place that knows every process.

    nextcall up [--host H] [--port P] [--simulate]   everything, embedded (services/up.py)
    nextcall api [--host H] [--port P] [--workers N]
    nextcall worker [--burst] [--metrics-port P]
    nextcall migrate
    nextcall rebuild [--assignment ID] [--enqueue]
    nextcall import --assignment ID FILE [--format csv|json] [--user ID]
    nextcall demo
    nextcall bench [OPTIONS]                 the benchmark (bench/README.md); options go to it
    nextcall simulate [--answer-rates R,..] [--pacers P,..] [--seeds S,..] [--chart PNG]
    nextcall simulate --live --url URL --token ADMIN_TOKEN --assignment ID [--speed X]
    nextcall create-tenant NAME [--data-controller TEXT] [--purpose TEXT]
    nextcall create-user --tenant ID --name NAME --permissions a,b [--email E]

A bad setting, an unreachable database or Redis and a missing schema end a command with one
line on stderr and an exit code of its own (services/preflight.py).

Modules that declare metrics are imported only after prometheus_client's multiprocess mode is
set up (`_metrics_dir`): the mode is fixed when prometheus_client is first imported.
"""

import argparse
import asyncio
import os
import shutil
import sys
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.preflight import (
    EXIT_SETTINGS,
    CommandError,
    check_database,
    check_redis,
    failure,
    read_settings,
    report,
)
from services.progress import progress_bar
from shared.infra.settings import Settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


Check = Callable[[Settings], None]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    command: Callable[[argparse.Namespace, Settings], int] = args.command
    needs: tuple[Check, ...] = args.needs
    try:
        settings = read_settings()
    except CommandError as error:
        return report(error)
    try:
        for check in needs:
            check(settings)
        return command(args, settings)
    except CommandError as error:
        return report(error)
    except Exception as exc:
        known = failure(settings, exc)
        if known is None:
            raise
        return report(known)


def _configured_redis(settings: Settings) -> None:
    """A configured Redis must answer; the embedded one is started by the command itself."""
    if settings.redis_url:
        check_redis(settings)


DATABASE: tuple[Check, ...] = (check_database,)
DATABASE_AND_REDIS: tuple[Check, ...] = (check_database, check_redis)
DATABASE_AND_OWN_REDIS: tuple[Check, ...] = (check_database, _configured_redis)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nextcall", description="Get the next right customer: API, worker and tools."
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    parser.set_defaults(needs=())

    p = sub.add_parser("up", help="run everything (embedded SQLite and Redis by default)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000, help="the API's port (default 8000)")
    p.add_argument(
        "--simulate",
        action="store_true",
        help="simulated agents and telephony dial the demo's predictive campaign",
    )
    p.set_defaults(command=_up, needs=DATABASE_AND_OWN_REDIS)

    p = sub.add_parser("api", help="run the HTTP API (uvicorn)")
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="API processes")
    # A listening socket handed over by `nextcall up`, which bound the port itself.
    p.add_argument("--fd", type=int, help=argparse.SUPPRESS)
    p.set_defaults(command=_api, needs=DATABASE_AND_REDIS)

    p = sub.add_parser("worker", help="run the worker: jobs and the scheduler tick")
    p.add_argument("--burst", action="store_true", help="stop when the job queue is empty")
    p.add_argument("--metrics-port", type=int, default=0, help="serve /metrics on this port")
    p.set_defaults(command=_worker, needs=DATABASE_AND_REDIS)

    p = sub.add_parser("migrate", help="bring the database schema up to date")
    p.set_defaults(command=_migrate, needs=DATABASE)

    p = sub.add_parser("rebuild", help="rebuild Redis queues from the database")
    p.add_argument("--assignment", type=int, help="only this one (default: every active one)")
    p.add_argument("--enqueue", action="store_true", help="run it as a worker job instead")
    p.set_defaults(command=_rebuild, needs=DATABASE_AND_OWN_REDIS)

    p = sub.add_parser("import", help="import customers from a CSV or JSON file")
    p.add_argument("--assignment", type=int, required=True, help="the assignment to import into")
    p.add_argument("file", type=Path)
    p.add_argument("--format", choices=["csv", "json"], help="default: from the file's name")
    p.add_argument("--user", type=int, help="recorded as importing (default: first admin)")
    p.set_defaults(command=_import, needs=DATABASE_AND_OWN_REDIS)

    # Every argument goes to the benchmark's own parser: "+" as the prefix keeps argparse from
    # reading its --options here.
    p = sub.add_parser("bench", help="run the benchmark", add_help=False, prefix_chars="+")
    p.add_argument("bench_args", nargs=argparse.REMAINDER)
    p.set_defaults(command=_bench)

    _simulate_parser(sub)

    p = sub.add_parser("demo", help="load the demo tenant, users and customers (once)")
    p.set_defaults(command=_demo, needs=DATABASE_AND_OWN_REDIS)

    p = sub.add_parser("create-tenant", help="create a tenant; prints its id")
    p.add_argument("name")
    p.add_argument("--data-controller", default="", help="who controls the data (rule 5)")
    p.add_argument("--purpose", default="", help="the purpose of processing (rule 5)")
    p.set_defaults(command=_create_tenant, needs=DATABASE)

    p = sub.add_parser("create-user", help="create a user; prints a new API token")
    p.add_argument("--tenant", type=int, required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--email", default="")
    p.add_argument("--permissions", required=True, help="comma-separated, e.g. customer_handling")
    p.set_defaults(command=_create_user, needs=DATABASE)
    return parser


def _simulate_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    from services.simulator.run import PACERS, pacer

    p = sub.add_parser(
        "simulate", help="a simulated dialing day against the pacing (docs/pacing.md)"
    )
    p.add_argument("--answer-rates", type=_floats, default=(0.15, 0.2, 0.4), metavar="R,..")
    p.add_argument(
        "--pacers",
        type=_names(pacer),
        default=("ours", "progressive"),
        metavar="P,..",
        help=f"of {', '.join(PACERS)}; ADAPT_TAPERED+ready@6: VICIdial counting ready agents"
        " only, maximum level 6 (default ours,progressive)",
    )
    p.add_argument("--seeds", type=_ints, default=(1,), metavar="S,..")
    p.add_argument("--agents", type=int, default=50)
    p.add_argument("--hours", type=float, default=8.0)
    p.add_argument("--cap", type=float, default=0.03, help="abandoned / answered (default 0.03)")
    p.add_argument("--chart", type=Path, help="write the day's figures to this PNG")
    live = p.add_argument_group(
        "live", "play the telephony platform in real time against a running API (docs/pacing.md)"
    )
    live.add_argument("--live", action="store_true")
    live.add_argument("--url", help="the API, e.g. http://127.0.0.1:8000")
    live.add_argument("--token", help="an administrator's token: makes the dialer and agents")
    live.add_argument("--assignment", type=int, help="a progressive or predictive assignment")
    live.add_argument("--speed", type=float, default=1.0, help="times faster (default 1)")
    p.set_defaults(command=_simulate)


def _floats(text: str) -> tuple[float, ...]:
    values = tuple(float(v) for v in text.split(","))
    if not all(0 < v <= 1 for v in values):
        raise argparse.ArgumentTypeError("rates are between 0 and 1, e.g. 0.15,0.2")
    return values


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(","))


def _names(check: Callable[[str], object]) -> Callable[[str], tuple[str, ...]]:
    def parse(text: str) -> tuple[str, ...]:
        names = tuple(text.split(","))
        for name in names:
            try:
                check(name)
            except ValueError as error:
                raise argparse.ArgumentTypeError(str(error)) from None
        return names

    return parse


def _simulate(args: argparse.Namespace, _settings: Settings) -> int:
    from services.simulator.compare import Plan, compare
    from services.simulator.engine import Shift

    if args.agents < 1 or args.hours <= 0 or not 0 < args.cap < 1:
        raise CommandError("--agents, --hours and --cap must be positive (--cap under 1)")
    if args.live:
        return _simulate_live(args)
    plan = Plan(
        answer_rates=args.answer_rates,
        pacers=args.pacers,
        seeds=args.seeds,
        shift=Shift(agents=args.agents, hours=args.hours),
        abandon_cap=args.cap,
        chart=args.chart,
    )
    compare(plan)
    return 0


def _simulate_live(args: argparse.Namespace) -> int:
    import signal

    import httpx

    from services.simulator.live import LivePlan, run_live
    from services.simulator.report import summarise, text

    if not (args.url and args.token and args.assignment):
        raise CommandError("--live needs --url, --token and --assignment")
    if args.speed <= 0:
        raise CommandError("--speed must be positive")
    plan = LivePlan(
        assignment_id=args.assignment,
        agents=args.agents,
        hours=args.hours,
        speed=args.speed,
        answer_rate=args.answer_rates[0],
        seed=args.seeds[0],
    )
    # `nextcall up` stops its children with SIGTERM: end as on Ctrl-C, agents signed off.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with httpx.Client(base_url=args.url, timeout=30) as client:
        try:
            day = run_live(client, plan, admin_token=args.token)
        except httpx.HTTPError as error:
            raise CommandError(f"the API refused or did not answer: {error}") from None
    print(text("live", summarise(day.minutes)))
    print(f"reserved {day.tally.reserved}, reported {day.tally.reported}")
    for refused in day.tally.refused[:10]:
        print(f"refused: {refused['status']} {refused['path']}", file=sys.stderr)
    return 0


@contextmanager
def _metrics_dir(settings: Settings, name: str) -> Iterator[None]:
    """prometheus_client's multiprocess directory for this process and its children.

    Kept if the environment names one; otherwise a fresh one under the data dir, removed at
    exit (with those of processes that died without cleaning up).
    """
    if os.environ.get(MULTIPROC_ENV):
        Path(os.environ[MULTIPROC_ENV]).mkdir(parents=True, exist_ok=True)
        yield
        return
    root = (settings.data_dir / "metrics").resolve()
    root.mkdir(parents=True, exist_ok=True)
    for old in root.iterdir():
        pid = old.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    path = root / f"{name}-{os.getpid()}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir()
    os.environ[MULTIPROC_ENV] = str(path)
    try:
        yield
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _up(args: argparse.Namespace, settings: Settings) -> int:
    from services.up import run_up

    with _metrics_dir(settings, "up"):
        return run_up(settings, host=args.host, port=args.port, simulate=args.simulate)


def _api(args: argparse.Namespace, settings: Settings) -> int:
    with _metrics_dir(settings, "api"):
        import uvicorn

        uvicorn.run(
            "services.api.app:create_served_app",
            factory=True,
            # Logging is set up by the app factory in each process; requests are logged by
            # the app itself (services/api/observe.py), with route templates, not paths.
            log_config=None,
            access_log=False,
            host=args.host,
            port=args.port,
            fd=args.fd,
            workers=args.workers,
            proxy_headers=True,
            # Long polls end within 30 s and event streams would never end by themselves:
            # give requests in flight this long after SIGTERM, then close them.
            timeout_graceful_shutdown=35,
            timeout_keep_alive=settings.http_keep_alive_s,
        )
    return 0


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    with _metrics_dir(settings, "worker"):
        from services.worker.main import run_worker

        run_worker(settings, burst=args.burst, metrics_port=args.metrics_port or None)
    return 0


def _migrate(_args: argparse.Namespace, settings: Settings) -> int:
    from shared.infra.migrate import upgrade

    upgrade(settings)
    print("database schema is up to date", file=sys.stderr)
    return 0


def _rebuild(args: argparse.Namespace, settings: Settings) -> int:
    from services.up import redis_available

    if args.enqueue:
        from services.worker.jobs.rebuild import enqueue_rebuild
        from shared.infra.jobqueue import rq_connection

        ids = asyncio.run(_assignment_ids(settings, args.assignment))
        connection = rq_connection(settings, process_name="cli")
        try:
            for assignment_id in ids:
                job = enqueue_rebuild(connection, assignment_id)
                print(f"assignment {assignment_id}: queued job {job.id}")
        finally:
            connection.close()
        return 0
    with redis_available(settings):
        return asyncio.run(_rebuild_now(settings, args.assignment))


async def _assignment_ids(settings: Settings, only: int | None) -> list[int]:
    from sqlalchemy import select

    from shared.infra.db import create_engine, create_sessionmaker
    from shared.models import Assignment

    if only is not None:
        return [only]
    engine = create_engine(settings, process_name="cli")
    try:
        async with create_sessionmaker(engine)() as session:
            query = select(Assignment.id).where(Assignment.active.is_(True)).order_by(Assignment.id)
            return list(await session.scalars(query))
    finally:
        await engine.dispose()


async def _rebuild_now(settings: Settings, only: int | None) -> int:
    from services.worker.jobs.rebuild import rebuild_queue
    from shared.infra.db import create_engine, create_sessionmaker
    from shared.infra.redis import create_redis

    ids = await _assignment_ids(settings, only)
    engine = create_engine(settings, process_name="cli")
    redis = create_redis(settings, process_name="cli")
    sessionmaker = create_sessionmaker(engine)
    code = 0
    try:
        for assignment_id in ids:
            total = await _members(sessionmaker, assignment_id)
            with progress_bar(
                total=total, unit="customers", desc=f"assignment {assignment_id}"
            ) as bar:
                result = await rebuild_queue(
                    assignment_id, sessionmaker=sessionmaker, redis=redis, on_placed=bar.update
                )
            if result is None:
                print(f"assignment {assignment_id}: not found", file=sys.stderr)
                code = 1
            else:
                print(
                    f"assignment {assignment_id}: {result.placed} customers placed"
                    f" in {result.seconds:.2f} s"
                )
    finally:
        await redis.aclose()
        await engine.dispose()
    return code


async def _members(sessionmaker: async_sessionmaker[AsyncSession], assignment_id: int) -> int:
    """How many customers a rebuild of the assignment places (for its progress bar)."""
    from sqlalchemy import func, select

    from shared.models import Membership

    async with sessionmaker() as session:
        query = select(func.count(Membership.id)).where(Membership.assignment_id == assignment_id)
        return int(await session.scalar(query) or 0)


def _import(args: argparse.Namespace, settings: Settings) -> int:
    from services.importfile import file_format, import_file
    from services.up import redis_available

    fmt = file_format(args.file, args.format)
    try:
        payload = args.file.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {args.file}: {exc.strerror}") from None
    with redis_available(settings):
        done = asyncio.run(
            import_file(
                settings, assignment_id=args.assignment, payload=payload, fmt=fmt, user_id=args.user
            )
        )
    progress = done.progress
    for row in done.rejected:
        print(f"  line {row.get('line')}: {row.get('reason')}", file=sys.stderr)
    print(
        f"import {done.import_id}: {progress.processed_rows} rows,"
        f" {progress.accepted_rows} accepted, {progress.rejected_rows} rejected"
    )
    return 0


def _bench(args: argparse.Namespace, _settings: Settings) -> int:
    """bench/ lives beside the packages in a checkout (it is not installed): import it there."""
    root = Path(__file__).resolve().parent.parent
    if not (root / "bench" / "run.py").is_file():
        raise CommandError("the benchmark needs a checkout of the repository")
    sys.path.insert(0, str(root))
    try:
        from bench.run import main as bench_main
    except ModuleNotFoundError as exc:
        raise CommandError(
            f"the benchmark needs the package '{exc.name}': install it with"
            f" {Path(sys.executable).parent / 'pip'} install -e '{root}[bench]'"
        ) from None

    return bench_main(args.bench_args)


def _demo(_args: argparse.Namespace, settings: Settings) -> int:
    from services.demo import tokens_path
    from services.up import redis_available
    from shared.infra.migrate import upgrade

    upgrade(settings)
    with redis_available(settings):
        created = asyncio.run(_load_demo(settings))
    if created:
        print(f"demo data loaded; tokens in {tokens_path(settings)}")
    else:
        print("demo data already there (tenant 'Demo' exists)")
    return 0


async def _load_demo(settings: Settings) -> bool:
    from services.demo import load_demo
    from shared.infra.db import create_engine, create_sessionmaker
    from shared.infra.redis import create_redis

    engine = create_engine(settings, process_name="cli")
    redis = create_redis(settings, process_name="cli")
    try:
        info = await load_demo(settings, sessionmaker=create_sessionmaker(engine), redis=redis)
        return info is not None
    finally:
        await redis.aclose()
        await engine.dispose()


def _create_tenant(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy import func, select

    from shared.models import Tenant

    name = args.name.strip()
    if not name:
        raise CommandError("a tenant needs a name", code=EXIT_SETTINGS)

    async def create() -> int:
        async with _session(settings) as session:
            # Names are how operators tell tenants apart: one per name, whatever its case.
            same = await session.scalar(
                select(Tenant.id).where(func.lower(Tenant.name) == name.lower()).limit(1)
            )
            if same is not None:
                raise CommandError(f"a tenant named '{name}' exists already (id {same})")
            tenant = Tenant(
                name=name, data_controller=args.data_controller, processing_purpose=args.purpose
            )
            session.add(tenant)
            await session.flush()
            return tenant.id

    tenant_id = asyncio.run(create())
    print(f"tenant {tenant_id} ({name}) created", file=sys.stderr)
    print(tenant_id)
    return 0


def _create_user(args: argparse.Namespace, settings: Settings) -> int:
    from shared.infra.tokens import hash_token, new_token
    from shared.models import ApiToken, Permission, Tenant, User

    known = {p.value for p in Permission}
    permissions = [p.strip() for p in args.permissions.split(",") if p.strip()]
    unknown = sorted(set(permissions) - known)
    if not permissions or unknown:
        print(
            f"nextcall: unknown permissions {unknown}; choose from {', '.join(sorted(known))}",
            file=sys.stderr,
        )
        return 2

    async def create() -> tuple[int, str] | None:
        token = new_token()
        async with _session(settings) as session:
            if await session.get(Tenant, args.tenant) is None:
                return None
            user = User(
                tenant_id=args.tenant, name=args.name, email=args.email, permissions=permissions
            )
            session.add(user)
            await session.flush()
            session.add(
                ApiToken(tenant_id=args.tenant, user_id=user.id, token_hash=hash_token(token))
            )
        return user.id, token

    created = asyncio.run(create())
    if created is None:
        print(f"nextcall: tenant {args.tenant} not found", file=sys.stderr)
        return 1
    user_id, token = created
    print(f"user {user_id} ({args.name}) created; its token (shown once):", file=sys.stderr)
    print(token)
    return 0


@asynccontextmanager
async def _session(settings: Settings) -> AsyncIterator[AsyncSession]:
    """One unit of work on an engine of its own, for one-off commands."""
    from shared.infra.db import create_engine, create_sessionmaker, unit_of_work

    engine = create_engine(settings, process_name="cli")
    try:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            yield session
    finally:
        await engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
