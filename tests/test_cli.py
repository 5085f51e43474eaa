"""The `portfolio-api` command: help, migrate and a live `serve`."""

import os
import signal
import socket
import subprocess
import sys
import time

import httpx

COMMAND = [sys.executable, "-m", "app.cli"]


def run(*args, env=None, **kwargs):
    return subprocess.run(
        [*COMMAND, *args], capture_output=True, text=True, env=env, timeout=60, **kwargs
    )


def test_help_lists_the_commands():
    result = run("--help")
    assert result.returncode == 0
    assert "serve" in result.stdout
    assert "migrate" in result.stdout
    serve_help = run("serve", "--help").stdout
    assert all(option in serve_help for option in ("--host", "--port", "--workers"))


def test_unknown_command_fails():
    assert run("frobnicate").returncode != 0


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_migrate_then_serve_a_fresh_sqlite_database(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'fresh' / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    migrated = run("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / "fresh" / "db.sqlite3").exists()

    port = free_port()
    server = subprocess.Popen(
        [*COMMAND, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        assert response.status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/healthz/").json() == {"status": "ok"}
    finally:
        server.terminate()
        server.wait(timeout=10)
    # uvicorn shuts down gracefully, then re-raises the SIGTERM it caught.
    assert server.returncode in (0, -signal.SIGTERM)
