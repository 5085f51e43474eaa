"""One log format: JSON lines on stdout (readable ones on a terminal), each line of a request,
errors included, carrying the request's id."""

import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from app.common.logs import (
    REQUEST_ID,
    ConsoleFormatter,
    JsonFormatter,
    RequestIdFilter,
    logging_config,
    resolve_format,
)
from tests.conftest import make_client

ROOT = Path(__file__).resolve().parent.parent


def record(message: str = "hello %s", *args: object, **extra: object) -> logging.LogRecord:
    try:
        raise RuntimeError("went wrong")
    except RuntimeError:
        exc_info = sys.exc_info()
    made = logging.LogRecord("app.test", logging.ERROR, __file__, 1, message, args, exc_info)
    made.__dict__.update(extra)
    return made


def test_a_json_line_holds_the_record_its_fields_and_its_traceback():
    line = JsonFormatter().format(record("hello %s", "world", request_id="r-1", status=500))
    assert "\n" not in line
    fields = json.loads(line)
    assert fields["level"] == "ERROR"
    assert fields["logger"] == "app.test"
    assert fields["message"] == "hello world"
    assert fields["request_id"] == "r-1"
    assert fields["status"] == 500
    assert fields["time"].endswith("Z")
    assert fields["exception"].startswith("Traceback")
    assert "RuntimeError: went wrong" in fields["exception"]


def test_a_json_line_holds_any_field_a_caller_passes():
    """orjson writes the line; what it refuses (an integer beyond 64 bits) the standard encoder
    writes, in the same shape: keys that are not strings as strings, anything else as `str()`."""
    when = datetime(2026, 1, 2, 3, 4, 5)
    for big in (2**40, 2**70):
        fields = json.loads(
            JsonFormatter().format(record("x", big=big, counts={1: "one"}, when=when, path="/é"))
        )
        assert fields["big"] == big
        assert fields["counts"] == {"1": "one"}
        assert fields["when"] == "2026-01-02 03:04:05"
        assert fields["path"] == "/é"
    unusual = json.loads(JsonFormatter().format(record("odd", thing=object())))
    assert unusual["thing"].startswith("<object object at")


def test_a_readable_line_names_the_request_and_shows_the_traceback_below():
    text = ConsoleFormatter().format(record("hello", request_id="r-2"))
    first, *rest = text.splitlines()
    assert first.endswith(" ERROR   app.test [r-2] hello")
    assert rest[0].startswith("Traceback")


def test_the_filter_puts_the_current_request_id_on_each_record():
    filter_ = RequestIdFilter()
    outside = record()
    filter_.filter(outside)
    assert outside.request_id is None  # no request runs in this test's own context
    token = REQUEST_ID.set("r-3")
    try:
        inside = record()
        filter_.filter(inside)
    finally:
        REQUEST_ID.reset(token)
    assert inside.request_id == "r-3"
    assert "request_id" not in json.loads(JsonFormatter().format(outside))


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_format_is_readable_on_a_terminal_unless_set():
    assert resolve_format(None, Terminal()) == "console"
    assert resolve_format(None, io.StringIO()) == "json"
    assert resolve_format("json", Terminal()) == "json"
    assert resolve_format("console", io.StringIO()) == "console"


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the app logs while the test runs, through the handler `serve` gives stdout."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


async def test_an_error_line_carries_the_request_id(notes_app, notes_db, json_lines):
    async with make_client(notes_app, raise_app_exceptions=False) as http:
        response = await http.get("/test/boom", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500
    lines = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    error = next(line for line in lines if line["logger"] == "app.errors")
    assert error["level"] == "ERROR"
    assert error["request_id"] == "boom-1"
    assert error["message"] == "unhandled error on GET /test/boom"
    assert "RuntimeError: secret internals" in error["exception"]
    access = next(line for line in lines if line["logger"] == "app.access")
    assert (access["request_id"], access["status"], access["path"]) == ("boom-1", 500, "/test/boom")


SERVER = """
import sys
import uvicorn
from app.cli import configure_logging
from app.main import create_app
from app.settings import get_settings
from tests.common.notes import router

settings = get_settings()
log_config = configure_logging(settings)  # as `portfolio-api serve` does
app = create_app(settings)
app.include_router(router)
uvicorn.run(app, port=int(sys.argv[1]), log_config=log_config, access_log=False)
"""


def test_everything_a_server_writes_is_json_lines_on_stdout(tmp_path):
    """uvicorn's own lines too, and its line about a request that raised has the request's id."""
    from tests.test_cli import free_port

    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    env.pop("LOG_FORMAT", None)
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        boom = httpx.get(f"http://127.0.0.1:{port}/test/boom", headers={"X-Request-ID": "boom-2"})
        assert boom.status_code == 500
    finally:
        server.send_signal(signal.SIGTERM)
        stdout, stderr = server.communicate(timeout=15)
    assert stderr == ""
    lines = [json.loads(line) for line in stdout.splitlines()]  # every line is JSON
    messages = {(line["logger"], line["message"]) for line in lines}
    assert ("uvicorn.error", "Application startup complete.") in messages
    assert ("uvicorn.error", "Shutting down") in messages
    of_boom = [line for line in lines if line.get("request_id") == "boom-2"]
    assert {line["logger"] for line in of_boom} == {"app.errors", "uvicorn.error", "app.access"}
    assert all("RuntimeError" in line["exception"] for line in of_boom if line["level"] == "ERROR")
    assert all(line.get("request_id") for line in lines if line["logger"] == "app.access")


def test_the_configuration_sends_every_logger_to_stdout_in_one_format():
    config = logging_config("info", "console")
    assert config["root"] == {"level": "INFO", "handlers": ["stdout"]}
    assert config["handlers"]["stdout"]["stream"] == "ext://sys.stdout"
    assert config["formatters"]["line"]["()"] == "app.common.logs.ConsoleFormatter"
    assert logging_config("info", "json")["formatters"]["line"]["()"].endswith("JsonFormatter")
