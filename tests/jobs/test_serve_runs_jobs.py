"""`make run` needs nothing else: `portfolio-api serve` on a fresh SQLite database delivers
webhooks with its in-process worker, and with RUN_WORKER=false it leaves them waiting."""

import asyncio
import os
import socket
import sys

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests.webhooks.receiver import Receiver

COMMAND = [sys.executable, "-m", "app.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def run(*args: str, env: dict[str, str]) -> str:
    process = await asyncio.create_subprocess_exec(
        *COMMAND, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    return stdout.decode()


async def serve(env: dict[str, str]) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        *COMMAND,
        "serve",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as http:
        for _attempt in range(200):
            try:
                if (await http.get(f"{base}/readyz")).status_code == 200:
                    return server, base
            except httpx.TransportError:
                pass
            assert server.returncode is None, "serve exited"
            await asyncio.sleep(0.1)
    raise AssertionError("serve did not start")


@pytest.mark.parametrize("run_worker", ["true", "false"])
async def test_serve_delivers_webhooks_unless_told_not_to(tmp_path, backend, run_worker):
    if backend != "sqlite":
        pytest.skip("the embedded setup is SQLite's; the PostgreSQL run covers workers elsewhere")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "RUN_WORKER": run_worker,
        "LOG_LEVEL": "WARNING",
    }
    await run("migrate", env=env)
    await run("createsuperuser", "--username", "root", "--password", "a long secret", env=env)
    key = (await run("token", "create", "root", env=env)).strip().splitlines()[-1]
    headers = {"Authorization": f"Token {key}"}
    server, base = await serve(env)
    try:
        async with Receiver() as receiver, httpx.AsyncClient(base_url=base) as http:
            hook = await http.post("/api/webhooks/", json={"url": receiver.url}, headers=headers)
            assert hook.status_code == 201, hook.text
            tag = await http.post("/api/tags/", json={"name": "Django"}, headers=headers)
            assert tag.status_code == 201
            if run_worker == "false":
                await asyncio.sleep(1.0)
                assert receiver.received == []
                log = await http.get(
                    f"/api/webhooks/{hook.json()['id']}/deliveries/", headers=headers
                )
                assert log.json()["count"] == 0  # not even dispatched: no worker runs
                return
            [received] = await receiver.wait_for(1, within=15)
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 30)
    event = Webhook(hook.json()["secret"]).verify(received.body, received.headers)
    assert event["type"] == "tag.created"
    assert event["data"] == tag.json()
