"""The command as an operator runs it: exit statuses, one-line errors, the token from the
environment, and an import killed in the middle that resumes without downloading again."""

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from app.importer.client import Refused, Unreachable
from app.importer.shapes import NotTheOriginal
from app.models import MediaFile, Tag
from tests.factories import create_row
from tests.importer.conftest import TOKEN, run_import
from tests.importer.original import Original, OriginalData
from tests.webhooks.receiver import Receiver

COMMAND = str(Path(sys.executable).parent / "portfolio-api")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def command_env(settings, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "MEDIA_ROOT": str(settings.media_root),
        "MEDIA_STORAGE": "local",
        "IMPORT_ATTEMPTS": "2",
        **extra,
    }
    env.pop("ORIGINAL_TOKEN", None)
    return {**env, **extra}


async def run_command(settings, *args: str, **env: str) -> tuple[int, str, str]:
    """`portfolio-api import-original ...` in a subprocess, while this loop serves the original."""
    process = await asyncio.create_subprocess_exec(
        COMMAND,
        "import-original",
        *args,
        env=command_env(settings, **env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_a_refused_token_is_exit_1_with_one_line(
    committing_client, original, import_settings
):
    status, out, err = await run_command(
        import_settings, "--from", original.url, "--token", "not-the-key"
    )
    assert status == 1
    assert out == ""
    assert err.splitlines() == [
        "portfolio-api: error: the original refused the token: 401 Invalid token."
    ]


async def test_the_token_comes_from_the_environment_and_conflicts_are_exit_2(
    app, committing_client, original, import_settings
):
    await create_row(app, Tag, name="python")
    status, out, err = await run_command(
        import_settings, "--from", original.url, ORIGINAL_TOKEN=TOKEN
    )
    assert status == 2
    table = summary_table(out)
    assert table["tag"] == {"created": 2, "updated": 0, "unchanged": 0, "conflicts": 1, "failed": 0}
    assert table["portfolio"]["created"] == 3
    assert "conflict: tag 7 ('python'): name: tag with this name already exists." in err


def summary_table(out: str) -> dict[str, dict[str, int]]:
    """The table on stdout: {kind: {outcome: count}}."""
    lines = out.splitlines()
    head = lines[0].split()
    assert head == ["kind", "created", "updated", "unchanged", "conflicts", "failed"]
    rows = (line.split() for line in lines[1:7])
    return {row[0]: dict(zip(head[1:], map(int, row[1:]), strict=True)) for row in rows}


async def test_no_token_at_all_is_exit_1(committing_client, original, import_settings):
    status, _out, err = await run_command(import_settings, "--from", original.url)
    assert status == 1
    assert "pass --token or set ORIGINAL_TOKEN" in err


async def test_forbidden_unreachable_and_not_the_original_stop_the_import(
    committing_client, import_settings
):
    settings = import_settings.model_copy(update={"import_attempts": 1})
    async with Original(OriginalData.sample(), forbidden=True) as forbidding:
        with pytest.raises(Refused, match="403 You do not have permission"):
            await run_import(settings, forbidding)
    with pytest.raises(Unreachable, match="did not answer after 1 tries"):
        await run_import(settings, _At(f"http://127.0.0.1:{closed_port()}"))
    async with Receiver() as not_an_api:  # answers "ok" to everything
        with pytest.raises(NotTheOriginal, match="did not answer JSON"):
            await run_import(settings, _At(not_an_api.url.removesuffix("/hooks")))
    async with Original(OriginalData.sample()) as original:
        with pytest.raises(NotTheOriginal, match="answered 404: not the original API"):
            await run_import(settings, _At(f"{original.url}/somewhere"))
        original.data.portfolios[150].title = None  # type: ignore[assignment]
        with pytest.raises(NotTheOriginal, match=r"portfolio 150 .* shape \(title: "):
            await run_import(settings, original)


class _At:
    """An `--from` that is not a stand-in original."""

    def __init__(self, url: str) -> None:
        self.url = url


async def test_an_import_killed_in_the_middle_resumes_without_downloading_again(
    app, committing_client, import_settings
):
    async with Original(OriginalData.sample(), slow_seconds=0.3) as original:
        process = await asyncio.create_subprocess_exec(
            COMMAND,
            "import-original",
            "--from",
            original.url,
            "--token",
            TOKEN,
            env=command_env(import_settings, IMPORT_DOWNLOADS="1"),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        stored = await _wait_for_media_rows(app, at_least=2)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        async with app.state.sessionmaker() as session:
            stored = set(await session.scalars(select(MediaFile.id)))
        assert 0 < len(stored) < len(original.data.media)

        report, verification = await run_import(import_settings, original, verify=True)

    assert report.counts["unchanged"]["media"] == len(stored)
    assert report.counts["created"]["media"] == len(original.data.media) - len(stored)
    for media_id in stored:
        assert original.downloads[original.data.media[media_id].path] == 1
    assert verification is not None
    assert verification.differences == []


async def _wait_for_media_rows(app, at_least: int) -> int:
    for _ in range(600):
        async with app.state.sessionmaker() as session:
            found = len(list(await session.scalars(select(MediaFile.id))))
        if found >= at_least:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("the import stored no files in 30 s")


async def test_files_that_keep_timing_out_fail_alone_after_their_tries(
    committing_client, import_settings
):
    settings = import_settings.model_copy(update={"import_timeout": 0.2, "import_attempts": 2})
    async with Original(OriginalData.sample(), slow_seconds=1.0) as slow:
        report, _ = await run_import(settings, slow)
    assert report.counts["failed"]["media"] == len(slow.data.media)
    assert report.counts["created"]["portfolio"] == len(slow.data.portfolios)
    assert all("did not answer after 2 tries" in line for line in report.problems)


async def test_verify_with_a_dry_run_is_refused(committing_client, original, import_settings):
    status, _out, err = await run_command(
        import_settings, "--from", original.url, "--dry-run", "--verify", ORIGINAL_TOKEN=TOKEN
    )
    assert status == 1
    assert "--verify compares what was imported" in err
