"""Logging, configured once at process start (docs/decisions/021-metrics-alerts-logs.md).

Every log line goes through structlog: our `logging.getLogger(__name__)` loggers, uvicorn's
and RQ's are rendered by structlog's ProcessorFormatter, as one JSON object per line in
production (`NEXTCALL_LOG_FORMAT=json`, the default there) and as readable text elsewhere.
What a request binds with structlog's contextvars (request_id, tenant_id, user_id) is on
every line logged while it runs.

No personal data: lines carry ids, route templates and counts, never paths with query
strings, names, phone numbers or e-mail addresses. `drop_personal` removes such keys should
a caller pass one, and the database engine hides statement parameters in its errors
(shared/infra/db.py).
"""

import logging
import logging.config
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from shared.infra.settings import LogFormat

# Keys a log line must never carry: they hold what a customer or a user is called or reached at.
PERSONAL_KEYS = frozenset(
    {
        "name",
        "first_name",
        "last_name",
        "full_name",
        "phone",
        "phones",
        "email",
        "e-mail",
        "address",
        "query_string",
        "q",
        "query",
        "path",
        "raw_path",
        "url",
    }
)
# HTTP clients log every request's URL at INFO or DEBUG, query string included (where a
# search's name or a phone number would be): only their warnings pass.
QUIET_LOGGERS = ("httpx", "httpcore", "urllib3")
# The standard attributes of a LogRecord: whatever else a record carries came with `extra=`.
_RECORD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def drop_personal(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in PERSONAL_KEYS.intersection(event):
        event[key] = "[removed]"
    return event


def _extras(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """The `extra=` fields of a standard library record, as fields of the line."""
    record = event.get("_record")
    if record is not None:
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and not key.startswith("_"):
                event.setdefault(key, value)
    return event


def _processors() -> list[Any]:
    """What every line passes through, whichever logger wrote it."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _extras,
        drop_personal,
    ]


def formatter(fmt: LogFormat) -> structlog.stdlib.ProcessorFormatter:
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == LogFormat.json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    final: list[Any] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if fmt == LogFormat.json:
        final.append(structlog.processors.format_exc_info)
    final.append(renderer)
    return structlog.stdlib.ProcessorFormatter(foreign_pre_chain=_processors(), processors=final)


def configure_logging(
    fmt: LogFormat, *, level: int | str = logging.INFO, stream: TextIO | None = None
) -> None:
    """Route every logger to one handler on `stream` (stderr), rendered as `fmt`."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn and RQ bring handlers of their own: let their lines reach ours instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "rq.worker", "rq"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
