"""Arrows point down, and the queue owns its keys (DESIGN 4, docs/decisions/019-...).

Read from the source with `ast`, no server needed. Each rule is a function of one module's
source, so the tests below run it on planted violations too: a rule that finds nothing there
would pass for any tree.
"""

import ast
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import services.queue

ROOT = Path(__file__).resolve().parents[1]
# The code that runs or ships. Tests spell keys on purpose: they pin the names a running
# system holds (tests/queue/test_keys.py).
SCANNED = ("services", "shared", "bench")
QUEUE = "services/queue/"
PUBLIC = frozenset(services.queue.__all__)

# Text only a key or channel name holds: the app prefix, the hash tags, the prefixes of the
# queue's per-segment and per-owner structures (services/queue/lua/common.lua), a build's.
KEY_TEXT = re.compile(r"(?<![\w-])nc:|\{[au]:|(?<![\w-])(?:sfu|pfu|free|cool|limit|build|once):")
# The names of an assignment's structures: a key once they are handed to Redis or to `key`.
# Methods whose first argument is a key or channel, whoever calls them. A literal there is a
# key spelled outside the queue, whatever it says: an assignment's structure ("buckets",
# "lease", "holder"...) or anything else.
REDIS_ONLY = frozenset(
    " ".join(
        (
            "hget hset hmget hgetall hdel hincrby hexists",
            "smembers sadd srem scard sismember",
            "zadd zrem zrange zrangebyscore zrevrange zrevrangebyscore zscore zcard",
            "zremrangebyscore zincrby",
            "xadd xread xlen xrange xrevrange xtrim publish psubscribe subscribe",
            "getset pexpire pttl expire ttl unlink incr incrby setnx mget",
            "lpush rpush lrange blpop",
            "key _key",  # AssignmentQueue's, for its own package
        )
    ).split()
)
# Methods whose first argument is a key when they are called on a Redis client or pipeline.
REDIS_TOO = frozenset({"get", "set", "delete", "exists", "copy", "type", "lock", "keys"})
# What the queue engine is not allowed to know (DESIGN 4: a library handed a Redis client).
NOT_IN_QUEUE = ("shared", "services.api", "services.worker", "bench", "fastapi", "rq", "starlette")


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings or bare expression statements."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }


def _texts(node: ast.AST) -> Iterator[str]:
    """The literal text of a string constant or of an f-string's constant parts."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.JoinedStr):
        for part in node.values:
            yield from _texts(part)


def _key_argument(call: ast.Call) -> ast.expr | None:
    """The first argument of a call that hands Redis (or a queue's `key`) a key; else None."""
    if not isinstance(call.func, ast.Attribute) or not call.args:
        return None
    method = call.func.attr
    receiver = ast.unparse(call.func.value).lower()
    if method in REDIS_ONLY or (
        method in REDIS_TOO and ("redis" in receiver or "pipe" in receiver)
    ):
        return call.args[0]
    return None


def key_literals(source: str) -> list[str]:
    """Queue key names spelled in this source: text only a key holds, or any literal handed
    to Redis as a key. Docstrings may describe keys; code may not spell them."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and id(node) not in skip:
            found += [f"{node.lineno}: {t!r}" for t in _texts(node) if KEY_TEXT.search(t)]
        if isinstance(node, ast.Call) and (arg := _key_argument(node)) is not None:
            texts = list(_texts(arg))
            if texts and not any(KEY_TEXT.search(t) for t in texts):
                found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def _imported(tree: ast.AST) -> Iterator[tuple[int, str, str | None]]:
    """(line, module, name) of every import; name is None for `import module`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                yield node.lineno, node.module, alias.name


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def services_imports(source: str) -> list[str]:
    """Imports of `services` (forbidden in shared/: arrows point down)."""
    tree = ast.parse(source)
    return [
        f"{line}: {module}" for line, module, _ in _imported(tree) if _within(module, "services")
    ]


def private_queue_imports(source: str, public: frozenset[str] = PUBLIC) -> list[str]:
    """Imports of what services.queue does not name in `__all__`: its inner modules (engine,
    scripts, placement...) and underscored names, even of its public modules."""
    found = []
    for line, module, name in _imported(ast.parse(source)):
        if not _within(module, "services.queue"):
            continue
        inner = module.removeprefix("services.queue").lstrip(".").split(".")[0]
        if module == "services.queue":
            ok = name is None or name in public
        else:
            ok = inner in public and not (name or "").startswith("_")
        if not ok:
            found.append(f"{line}: {module}" + (f" import {name}" if name else ""))
    return found


def queue_dependencies(source: str) -> list[str]:
    """Imports the queue engine must not have: nextcall outside itself, FastAPI, RQ."""
    tree = ast.parse(source)
    return [
        f"{line}: {module}"
        for line, module, _ in _imported(tree)
        if any(_within(module, other) for other in NOT_IN_QUEUE)
    ]


def _modules(*folders: str) -> dict[str, str]:
    return {
        path.relative_to(ROOT).as_posix(): path.read_text()
        for folder in folders
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "baselines" not in path.parts  # the benchmark's peer servers are not nextcall
    }


def _violations(rule: Callable[[str], list[str]], modules: dict[str, str]) -> list[str]:
    return [f"{path}:{hit}" for path, source in modules.items() for hit in rule(source)]


class TestTheTree:
    def test_the_scan_reads_the_modules_that_once_spelled_keys(self) -> None:
        scanned = _modules(*SCANNED)
        for path in (
            "services/worker/scheduler.py",
            "services/worker/recovery.py",
            "services/worker/abandoned.py",
            "services/worker/jobs/rebuild.py",
            "services/api/assignments/cache.py",
            "services/queue/keys.py",
        ):
            assert path in scanned
        assert len(scanned) > 100

    def test_only_the_queue_spells_queue_keys(self) -> None:
        outside = {p: s for p, s in _modules(*SCANNED).items() if not p.startswith(QUEUE)}
        assert _violations(key_literals, outside) == []

    def test_shared_imports_nothing_from_services(self) -> None:
        assert _violations(services_imports, _modules("shared")) == []

    def test_everything_outside_the_queue_uses_its_public_api(self) -> None:
        outside = {p: s for p, s in _modules(*SCANNED).items() if not p.startswith(QUEUE)}
        assert _violations(private_queue_imports, outside) == []

    def test_the_queue_imports_no_framework_and_nothing_else_of_ours(self) -> None:
        assert _violations(queue_dependencies, _modules("services/queue")) == []

    def test_the_public_api_names_what_the_package_has(self) -> None:
        missing = [name for name in PUBLIC if not hasattr(services.queue, name)]
        assert missing == []


class TestTheRules:
    """Each rule finds a planted violation, and lets the same idea pass when done right."""

    @pytest.mark.parametrize(
        "source",
        [
            'buckets = await redis.smembers(queue.key("buckets"))',
            'pipe.zrangebyscore(queue.key(f"sfu:{segment}"), 0, now)',
            'pipe.zrangebyscore(queue._key(f"pfu:{owner}"), 0, now)',
            'EPOCH_KEY = "nc:queues:epoch"',
            'key = f"nc:jobs:reruns:{rq_id}"',
            'await self.redis.set(f"nc:once:fallback:{slot}", "1", nx=True)',
            'channel = f"events:{{a:{assignment_id}}}"',
            'await redis.set("anything", "1")',
            'await pipe.hget("holder", "7")',
            'await redis.scan_iter(match="nc:*")',
            'def f():\n    """Doc."""\n    return "nc:stream:{u:1}"',
        ],
    )
    def test_a_key_spelled_outside_the_queue_is_found(self, source: str) -> None:
        assert key_literals(source) != []

    @pytest.mark.parametrize(
        "source",
        [
            "zones = await AssignmentQueue(redis, assignment_id).time_zones()",
            "await redis.set(keys.QUEUES_EPOCH, run_id)",
            "await redis.set(keys.once(f'fallback:{slot}'), '1', nx=True)",
            '"""The stream `nc:stream:{u:<id>}` of one user."""',
            'counts = {"sfu": 0, "pfu": 0}',
            'value = headers.get("home")',
            'row = grouper.key(user_id, "x")',
            "event.set()",
        ],
    )
    def test_a_key_reached_through_the_queue_is_not(self, source: str) -> None:
        assert key_literals(source) == []

    def test_shared_importing_services_is_found(self) -> None:
        assert services_imports("from services.queue import keys") != []
        assert services_imports("import services.api.app") != []
        assert services_imports("from shared.models import Assignment\nimport servicesx") == []

    @pytest.mark.parametrize(
        "source",
        [
            "from services.queue.engine import SWEEP_BATCH, now_ms",
            "from services.queue.placement import plain_places",
            "import services.queue.scripts",
            "from services.queue import _private",
            "from services.queue import engine",
            "from services.queue.streams import _assignment_key",
        ],
    )
    def test_a_private_queue_import_is_found(self, source: str) -> None:
        assert private_queue_imports(source) != []

    @pytest.mark.parametrize(
        "source",
        [
            "from services.queue import AssignmentQueue, QueueBuild, keys, now_ms",
            "from services.queue.broadcast import publish_eligible",
            "from services.queue.streams import Activity, EventType",
            "import services.queue",
            "from shared.membership.placement import FactsBatch",
        ],
    )
    def test_a_public_queue_import_is_not(self, source: str) -> None:
        assert private_queue_imports(source) == []

    def test_the_queue_importing_a_framework_or_shared_is_found(self) -> None:
        assert queue_dependencies("from fastapi import FastAPI") != []
        assert queue_dependencies("from rq import Queue") != []
        assert queue_dependencies("from shared.infra.settings import Settings") != []
        assert queue_dependencies("from services.queue import keys\nimport redis") == []
