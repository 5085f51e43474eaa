"""moto's S3 on a loopback port, for the tests: `python -m tests.moto_server PORT`.

Two changes to moto's own server:
- Requests are handled one at a time. moto checks a conditional PUT (`If-None-Match: *`) and
  writes the object in two steps, where S3 does both atomically; concurrent uploads of one name
  would otherwise overwrite each other here, and only here.
- A fault switch, to test a bucket that breaks mid-upload. `POST /_faults` with
  `{"after": N, "mode": "error" | "slow-down" | "too-many" | "drop", "count": K}` lets N object
  PUTs (PutObject and UploadPart) through, then fails the next K (every one when K is absent):
  "error" answers 500 InternalError, "slow-down" 503 SlowDown, "too-many" 429, "drop" reads
  part of the body and closes the connection. `GET /_faults` tells how many failed;
  `DELETE /_faults` heals the bucket.
"""

import json
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

StartResponse = Callable[..., Any]
ANSWERS = {  # mode: the status line and S3's error code and message
    "error": ("500 Internal Server Error", "InternalError", "We encountered an internal error."),
    "slow-down": ("503 Slow Down", "SlowDown", "Please reduce your request rate."),
    "too-many": ("429 Too Many Requests", "TooManyRequests", "Please reduce your request rate."),
}


def error_body(code: str, message: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
        f"<Message>{message}</Message></Error>"
    ).encode()


class Faults:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.heal()

    def heal(self) -> None:
        self.passing: int | None = None  # None: healthy
        self.failing: int | None = None  # None: every PUT after the passing ones
        self.mode = "error"
        self.failed = 0

    def set(self, after: int, mode: str, count: int | None) -> None:
        self.passing, self.mode, self.failing, self.failed = after, mode, count, 0

    def next_put_fails(self) -> bool:
        with self.lock:
            if self.passing is None:
                return False
            if self.passing > 0:
                self.passing -= 1
                return False
            if self.failing is not None and self.failed >= self.failing:
                return False
            self.failed += 1
            return True


def is_object_put(environ: dict[str, Any]) -> bool:
    """PutObject or UploadPart (a bucket's own PUTs, such as its policy, pass)."""
    path = environ.get("PATH_INFO", "").strip("/")
    query = environ.get("QUERY_STRING", "")
    return (
        environ["REQUEST_METHOD"] == "PUT" and "/" in path and (not query or "partNumber=" in query)
    )


def create_app() -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    moto = DomainDispatcherApplication(create_backend_app)
    one_at_a_time = threading.Lock()
    faults = Faults()

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/_faults":
            if environ["REQUEST_METHOD"] == "GET":
                start_response("200 OK", [("Content-Type", "application/json")])
                return [json.dumps({"failed": faults.failed}).encode()]
            if environ["REQUEST_METHOD"] == "POST":
                size = int(environ.get("CONTENT_LENGTH") or 0)
                options = json.loads(environ["wsgi.input"].read(size) or b"{}")
                faults.set(
                    options.get("after", 0), options.get("mode", "error"), options.get("count")
                )
            else:
                faults.heal()
            start_response("204 No Content", [])
            return []
        if is_object_put(environ) and faults.next_put_fails():
            size = int(environ.get("CONTENT_LENGTH") or 0)
            if faults.mode == "drop":
                environ["wsgi.input"].read(min(size, 100))
                connection: socket.socket = environ["werkzeug.socket"]
                connection.shutdown(socket.SHUT_RDWR)
                connection.close()
                raise ConnectionResetError("fault injected")  # werkzeug drops it quietly
            environ["wsgi.input"].read(size)  # as S3 does: the connection stays usable
            status, code, message = ANSWERS[faults.mode]
            start_response(status, [("Content-Type", "application/xml")])
            return [error_body(code, message)]
        with one_at_a_time:
            return [b"".join(moto(environ, start_response))]

    return app


if __name__ == "__main__":
    run_simple(
        "127.0.0.1",
        int(sys.argv[1]),
        create_app(),
        threaded=True,
        request_handler=MotoRequestHandler,
    )
