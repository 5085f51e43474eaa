"""One log format for every logger (the app's, uvicorn's, the libraries'): a JSON object a line
on stdout, or a readable line on a terminal; each line logged during a request carries its id.

The request id lives in a context variable that `RequestContextMiddleware` sets; a filter on the
handler copies it onto every record, so a line needs no `extra` to be found by its request.
"""

import json
import logging
import sys
import time
from collections.abc import Mapping
from contextvars import ContextVar
from typing import IO, Any, Literal

import orjson

LogFormat = Literal["json", "console"]

# Set for the task serving a request, and not reset when the middleware returns: the 500
# handler (Starlette runs it outside every middleware) and the server's own line about a request
# that raised log after that, in the same task. Each request is a task of its own.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

_encode_any = json.JSONEncoder(ensure_ascii=False, check_circular=False, default=str).encode


# Dates and dataclasses as `str()` writes them, as the standard encoder's `default=str` does.
_ORJSON_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def _encode(line: dict[str, Any]) -> str:
    """The line as JSON: by orjson, a sixth of the standard encoder's cost on a request's line;
    by the standard one what orjson refuses (an integer beyond 64 bits), in the same shape."""
    try:
        return orjson.dumps(line, default=str, option=_ORJSON_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return _encode_any(line)


# What every LogRecord has; anything else on a record was passed as `extra` and is a field.
_STANDARD = frozenset(
    (*logging.LogRecord("", 0, "", 0, "", None, None).__dict__, "message", "asctime", "taskName")
)
# uvicorn's coloured copy of its message, the filter's field (written first), the console's.
_NOT_FIELDS = _STANDARD | {"color_message", "request_id", "rid"}


class RequestIdFilter(logging.Filter):
    """Put the current request's id (or None) on each record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


class _Seconds:
    """The last second formatted: lines come many to a second (this runs on every line)."""

    at = -1
    text = ""


def _timestamp(record: logging.LogRecord) -> str:
    """`2026-01-13T09:30:00.123Z`."""
    second = int(record.created)
    if second != _Seconds.at:
        _Seconds.text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _Seconds.at = second
    return f"{_Seconds.text}.{int(record.msecs):03d}Z"


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", "request_id"?, ...extra, "exception"?}`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            line["request_id"] = request_id
        line.update(
            {key: value for key, value in record.__dict__.items() if key not in _NOT_FIELDS}
        )
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return _encode(line)


def info_without_caller(
    logger: logging.Logger, message: str, args: tuple[Any, ...], fields: Mapping[str, Any]
) -> None:
    """`logger.info(message, *args, extra=fields)` without finding the caller's file and line,
    which neither format shows: for the access line, one a request, where that search was a
    sixth of the line's cost."""
    if logger.isEnabledFor(logging.INFO):
        logger.handle(
            logger.makeRecord(logger.name, logging.INFO, "", 0, message, args, None, extra=fields)
        )


class ConsoleFormatter(logging.Formatter):
    """`12:00:00.123 INFO    app.errors [request id] message`, tracebacks below it."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s.%(msecs)03d %(levelname)-7s %(name)s%(rid)s %(message)s")
        self.datefmt = "%H:%M:%S"

    def formatMessage(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        record.rid = f" [{request_id}]" if request_id else ""
        return super().formatMessage(record)


def resolve_format(setting: LogFormat | None, stream: IO[str] | None = None) -> LogFormat:
    """LOG_FORMAT when set; else readable on a terminal (`make run`), JSON anywhere else."""
    if setting is not None:
        return setting
    stream = stream or sys.stdout
    return "console" if stream.isatty() else "json"


def logging_config(level: str, log_format: LogFormat) -> dict[str, Any]:
    """Every logger to stdout through one handler. Given to uvicorn, which applies it in every
    worker process (so it holds only names: it is pickled for them)."""
    formatter = JsonFormatter if log_format == "json" else ConsoleFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"line": {"()": f"{__name__}.{formatter.__name__}"}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "line",
                "filters": ["request_id"],
            },
        },
        "root": {"level": level.upper(), "handlers": ["stdout"]},
        # uvicorn's loggers keep no handlers of their own: their lines reach the root's.
        "loggers": {
            name: {"handlers": [], "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }
