"""The `portfolio-api` command: help, migrate and a live `serve`."""

import asyncio
import getpass
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from app.auth.secrets import password_pool, verify_password
from app.cli import main
from app.main import create_app
from app.models import User
from app.settings import Settings, get_settings
from tests.conftest import make_client, run_migrations, started

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


@pytest.fixture(scope="module")
def cli_database(tmp_path_factory):
    """A fresh, migrated SQLite database of its own: the commands commit for real."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('cli') / 'cli.sqlite3'}"
    run_migrations(url)
    return url


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(cli_database, monkeypatch, capsys):
    """Runs `portfolio-api ARGS` in this process (the account commands; fast, no interpreter)."""
    monkeypatch.setenv("DATABASE_URL", cli_database)
    monkeypatch.delenv("PORTFOLIO_API_PASSWORD", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO())
    get_settings.cache_clear()

    def invoke(*args, env=None):
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        returncode = main(list(args))
        captured = capsys.readouterr()
        return Result(returncode, captured.out, captured.err)

    yield invoke
    get_settings.cache_clear()


def test_createsuperuser_then_token_then_me(cli, cli_database):
    created = cli("createsuperuser", "--username", "root", "--password", "a long secret")
    assert created.returncode == 0, created.stderr
    token = cli("token", "create", "root", "--name", "deploy")
    assert token.returncode == 0, token.stderr
    key = token.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"[0-9a-f]{40}", key)
    assert asyncio.run(who_am_i(cli_database, key)) == (200, "root", True)

    revoked = cli("token", "revoke", key)
    assert revoked.returncode == 0, revoked.stderr
    assert asyncio.run(who_am_i(cli_database, key))[0] == 401


def test_superuser_password_from_the_environment(cli):
    env = {"PORTFOLIO_API_PASSWORD": "from the environment"}
    created = cli("createsuperuser", "--username", "envroot", env=env)
    assert created.returncode == 0, created.stderr


def test_createuser_with_codes_and_a_non_expiring_token(cli, cli_database):
    codes = ["--perm", "4241", "--perm", "4242"]
    created = cli(
        "createuser", "--username", "editor", "--password", "long enough", "--staff", *codes
    )
    assert created.returncode == 0, created.stderr
    key = cli("token", "create", "editor", "--no-expiry").stdout.split()[-1]
    status, username, is_superuser = asyncio.run(who_am_i(cli_database, key))
    assert (status, username, is_superuser) == (200, "editor", False)


@pytest.mark.parametrize("command", ["createuser", "createsuperuser"])
def test_password_from_the_option_else_the_environment(cli, cli_database, command):
    env = {"PORTFOLIO_API_PASSWORD": "from the environment"}
    created = cli(command, "--username", f"env-{command}", env=env)
    assert created.returncode == 0, created.stderr
    assert asyncio.run(password_is(cli_database, f"env-{command}", "from the environment"))
    given = cli(command, "--username", f"opt-{command}", "--password", "from the option", env=env)
    assert given.returncode == 0, given.stderr
    assert asyncio.run(password_is(cli_database, f"opt-{command}", "from the option"))


def test_help_says_where_the_password_comes_from(capsys):
    for command in ("createuser", "createsuperuser"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        help_text = " ".join(capsys.readouterr().out.split())  # as wrapped to any width
        assert "else $PORTFOLIO_API_PASSWORD, else asked twice" in help_text


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("command", ["createuser", "createsuperuser"])
def test_password_typed_twice_on_a_terminal(cli, cli_database, monkeypatch, command):
    typed = iter(["typed secret", "typed secret", "typed secret", "a typo"])
    prompts = []
    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr(getpass, "getpass", lambda prompt: prompts.append(prompt) or next(typed))
    created = cli(command, "--username", f"typed-{command}")
    assert created.returncode == 0, created.stderr
    assert prompts == ["Password: ", "Password (again): "]
    assert asyncio.run(password_is(cli_database, f"typed-{command}", "typed secret"))

    mistyped = cli(command, "--username", f"mistyped-{command}")
    assert mistyped.returncode == 1
    assert mistyped.stderr == "portfolio-api: error: the two passwords typed differ\n"
    assert asyncio.run(password_is(cli_database, f"mistyped-{command}", "typed secret")) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["createsuperuser", "--username", "root", "--password", "a long secret"],
            "already exists",
        ),
        (["createuser", "--username", "x", "--password", "long enough", "--perm", "9999"], "9999"),
        (["createuser", "--username", "y", "--password", "short"], "at least 8"),
        (["token", "create", "nobody"], "no user 'nobody'"),
        (["token", "revoke", "not-a-key"], "no such token"),
        (["createsuperuser", "--username", "nopw"], "--password"),
        (["createuser", "--username", "nopw"], "PORTFOLIO_API_PASSWORD"),
    ],
)
def test_mistakes_exit_non_zero_with_one_line(cli, args, message):
    if args[:3] == ["createsuperuser", "--username", "root"]:
        cli("createsuperuser", "--username", "root", "--password", "a long secret")
    result = cli(*args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert message in lines[0]


def test_perms_list_names_every_code(cli):
    output = cli("perms", "list").stdout
    assert "4241  link_create" in output
    assert "1104  media_delete" in output
    assert "4504  webhook_delete" in output
    assert len(output.strip().splitlines()) == 28


async def password_is(database_url, username, password):
    """Whether the user's stored password is `password`; None when there is no such user."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            statement = select(User.password_hash).where(User.username == username)
            stored = (await connection.execute(statement)).scalar_one_or_none()
    finally:
        await engine.dispose()
    if stored is None:
        return None
    passwords = password_pool(Settings(_env_file=None))
    try:
        with passwords.reserve() as slot:
            return await verify_password(stored, password, slot)
    finally:
        passwords.shutdown()


async def who_am_i(database_url, key):
    settings = Settings(_env_file=None, environment="test", database_url=database_url)
    async for app in started(create_app(settings)):
        async with make_client(app) as http:
            response = await http.get("/api/auth/me", headers={"Authorization": f"Token {key}"})
    body = response.json()
    return response.status_code, body.get("username"), body.get("is_superuser")
