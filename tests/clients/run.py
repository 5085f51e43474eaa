"""`make test-clients`: TypeScript clients and a browser against a live server (README.md here).

Starts the API on a fresh SQLite database in a temporary folder, and a static page on a second
port (another origin, the one CORS_ORIGINS names); generates the clients from the live
/openapi.json; type-checks the programs with `tsc --strict` (and lint.mjs: no casts, no any, no
ts directives); runs each against the server; then the browser test in Debian's Chromium.
Stops what it started. Exits non-zero when any step fails, and when CI=true and a step had to
be skipped (no Node.js, no Chromium). Standard library only: the API's own Python runs it.
"""

import contextlib
import functools
import hashlib
import http.server
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CLI = Path(sys.executable).parent / "portfolio-api"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
NODE_MIN = (20, 19)  # @hey-api/openapi-ts's engines
IN_CI = os.environ.get("CI") == "true"
PROGRAMS = ("openapi-fetch-client", "hey-api-client")
TSC = ["node_modules/.bin/tsc", "-p", "tsconfig.json", "--strict", "--pretty", "false"]


class Steps:
    """Each step's outcome and time; the summary and the exit code come from them."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, float]] = []

    @contextlib.contextmanager
    def timed(self, name: str) -> Iterator[list[str]]:
        """Yields a one-item list to put the outcome in: "passed" (default), "failed", ..."""
        print(f"\n== {name}", flush=True)
        outcome = ["passed"]
        started = time.monotonic()
        try:
            yield outcome
        except Exception as error:
            outcome[0] = "failed"
            print(f"{name}: {error}", flush=True)
        took = time.monotonic() - started
        self.rows.append((name, outcome[0], took))
        print(f"-- {name}: {outcome[0]} ({took:.1f}s)", flush=True)

    def skipped(self, name: str, reason: str) -> None:
        print(f"\nSKIPPED {name}: {reason}", flush=True)
        self.rows.append((name, "skipped", 0.0))

    def report(self, total: float) -> int:
        if FAILURES:
            print(f"\n== what failed ({len(FAILURES)})")
            for line in FAILURES:
                print(line)
        print("\n== test-clients summary")
        for name, outcome, took in self.rows:
            print(f"{took:6.1f}s  {outcome:8}  {name}")
        passed = sum(outcome == "passed" for _, outcome, _ in self.rows)
        failed = sum(outcome == "failed" for _, outcome, _ in self.rows)
        skipped = sum(outcome == "skipped" for _, outcome, _ in self.rows)
        print(f"{total:6.1f}s  total")
        print(f"test-clients: {passed} passed, {failed} failed, {skipped} skipped")
        if skipped and IN_CI:
            print("test-clients: CI=true, and a skipped step counts as a failure", file=sys.stderr)
        return 1 if failed or (skipped and IN_CI) else 0


FAILURES: list[str] = []  # lines that name a failed check or a type error, for the summary


def run(command: list[str], **kwargs: Any) -> None:
    print("$ " + " ".join(command), flush=True)
    subprocess.run(command, check=True, **kwargs)


def watched(command: list[str], cwd: Path, env: dict[str, str]) -> None:
    """Runs `command`, printing its output as it comes and keeping the lines about failures."""
    print("$ " + " ".join(command), flush=True)
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    for line in process.stdout:
        print(line, end="", flush=True)
        if line.startswith("FAIL ") or ": error TS" in line:
            FAILURES.append(line.rstrip())
    if process.wait() != 0:
        raise subprocess.CalledProcessError(process.returncode, command)


def apt_install(package: str) -> bool:
    """apt-get install (once after apt-get update if that fails); True when it worked."""
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", package]
    for attempt in range(2):
        if attempt:
            subprocess.run(["apt-get", "update", "-q"], env=env, check=False)
        print("$ " + " ".join(install), flush=True)
        if subprocess.run(install, env=env, check=False).returncode == 0:
            return True
    return False


def node_version() -> tuple[int, ...] | None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        return None
    out = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True)
    return tuple(int(part) for part in out.stdout.strip().lstrip("v").split(".")[:2])


def ensure_node() -> str | None:
    """None when Node.js (>= 20.19) and npm are there, else why not."""
    if node_version() is None and not (apt_install("nodejs") and apt_install("npm")):
        return "node or npm is missing and `apt-get install -y nodejs npm` did not bring them"
    version = node_version()
    if version is None:
        return "node or npm is missing"
    if version < NODE_MIN:
        return f"Node.js {'.'.join(map(str, version))} is older than {NODE_MIN[0]}.{NODE_MIN[1]}"
    return None


def npm_ci() -> None:
    """`npm ci` when node_modules was not installed from this package-lock.json."""
    lock = hashlib.sha256((HERE / "package-lock.json").read_bytes()).hexdigest()
    stamp = HERE / "node_modules" / ".installed-from"
    if stamp.exists() and stamp.read_text() == lock:
        print("node_modules matches package-lock.json")
        return
    run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE)
    stamp.write_text(lock)


def ensure_chromium() -> str | None:
    if Path(CHROMIUM).exists():
        return None
    if CHROMIUM != "/usr/bin/chromium":
        return f"{CHROMIUM} (CHROMIUM) is missing"
    if apt_install("chromium") and Path(CHROMIUM).exists():
        return None
    return f"{CHROMIUM} is missing and `apt-get install -y chromium` did not bring it"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def page_server(port: int) -> Iterator[str]:
    """tests/clients/page/ on 127.0.0.1:port: the front end's origin."""
    handler = functools.partial(QuietHandler, directory=str(HERE / "page"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def api_server(folder: Path, port: int, page_origin: str, password: str) -> Iterator[str]:
    """The API on a fresh SQLite database in `folder`, with a superuser `admin`."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'db.sqlite3'}",
        "MEDIA_ROOT": str(folder / "media"),
        "CORS_ORIGINS": page_origin,
        "ENVIRONMENT": "development",
        "LOG_FORMAT": "json",
        "PORTFOLIO_API_PASSWORD": password,  # kept out of `ps`
    }
    env.pop("PUBLIC_BASE_URL", None)
    # The server runs in the temporary folder: a developer's .env in the repository stays unread.
    run([str(CLI), "migrate"], env=env, cwd=folder, stdout=subprocess.DEVNULL)
    run([str(CLI), "createsuperuser", "--username", "admin"], env=env, cwd=folder)
    log = (folder / "server.log").open("wb")
    command = [str(CLI), "serve", "--host", "127.0.0.1", "--port", str(port)]
    print("$ " + " ".join(command), flush=True)
    process = subprocess.Popen(command, env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited ({process.returncode}): {tail(folder)}")
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"no answer at {url}/healthz within 60 s: {tail(folder)}")
            time.sleep(0.2)
        print(f"API at {url} (CORS_ORIGINS={page_origin}), log in {folder / 'server.log'}")
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def tail(folder: Path, lines: int = 30) -> str:
    path = folder / "server.log"
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def node(script: str, env: dict[str, str]) -> None:
    watched(["node", script], cwd=HERE, env=env)


def main() -> int:
    started = time.monotonic()
    steps = Steps()
    problem = ensure_node()
    if problem:
        steps.skipped("typescript clients and browser test", problem)
        return steps.report(time.monotonic() - started)
    with steps.timed("npm ci (tests/clients/package-lock.json)") as outcome:
        npm_ci()
    if outcome[0] != "passed":
        return steps.report(time.monotonic() - started)
    chromium_problem = ensure_chromium()

    password = secrets.token_urlsafe(16)
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="test-clients-")))
        page = stack.enter_context(page_server(free_port()))
        try:
            api = stack.enter_context(api_server(folder, free_port(), page, password))
        except (RuntimeError, subprocess.CalledProcessError) as error:
            print(f"the API did not start: {error}")
            steps.rows.append(("start the API", "failed", 0.0))
            return steps.report(time.monotonic() - started)
        env = {
            **os.environ,
            "API_URL": api,
            "PAGE_URL": f"{page}/",
            "API_USERNAME": "admin",
            "API_PASSWORD": password,
            "RUN_TAG": secrets.token_hex(3),
            "CHROMIUM": CHROMIUM,
        }
        artifacts = ROOT / "var" / "test-clients"
        shutil.rmtree(artifacts, ignore_errors=True)
        artifacts.mkdir(parents=True)
        env["ARTIFACTS"] = str(artifacts)

        with steps.timed("generate clients from the live /openapi.json") as outcome:
            node("generate.mjs", {**env, "NO_COLOR": "1"})
        if outcome[0] != "passed":
            return steps.report(time.monotonic() - started)
        with urllib.request.urlopen(f"{api}/openapi.json") as response:
            (artifacts / "openapi.json").write_bytes(response.read())

        # The JavaScript is written even when a type is wrong, so that the programs still run and
        # show what else fails; the type errors fail this step.
        shutil.rmtree(HERE / "build", ignore_errors=True)
        with steps.timed("tsc --strict (generated clients and programs)"):
            watched(TSC, HERE, env)
        with steps.timed("no casts, any or ts directives in src/"):
            node("lint.mjs", env)
        for program in PROGRAMS:
            with steps.timed(f"{program} against the live server"):
                node(f"build/src/{program}.js", env)
        if chromium_problem:
            steps.skipped("browser test", chromium_problem)
        else:
            with steps.timed("browser test (Chromium, page on another origin, docs offline)"):
                node("build/src/browser.js", env)
        print(f"screenshots and the document in {artifacts}")
        ran = [outcome for name, outcome, _ in steps.rows if "against" in name or "browser" in name]
        if "failed" in ran:
            print(f"\n-- the server's last log lines:\n{tail(folder, 15)}")
    return steps.report(time.monotonic() - started)


if __name__ == "__main__":
    # SIGTERM unwinds like Ctrl-C, so the servers started here are stopped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    sys.exit(main())
