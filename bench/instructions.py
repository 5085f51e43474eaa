"""Instructions per request, in process, counted by callgrind: the requests of
`bench.request_path` without the noise of a shared machine (the counts repeat to the thousand,
where wall-clock figures move by 20-40% between runs).

    .venv/bin/python -m bench.instructions                       # every scenario, SQLite
    .venv/bin/python -m bench.instructions --database-url postgresql+asyncpg://... list retrieve

Each scenario runs in a process of its own under `valgrind --tool=callgrind
--instr-atstart=no`; counting is switched on from outside (`callgrind_control`) only around the
measured requests, after start-up, seeding and a warm-up. Needs valgrind (Debian: apt-get install
valgrind). Valgrind's CPU lacks SHA instructions: SHA-256 (the ETag of a portfolio) counts
several times what the real CPU spends on it.
"""

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

from bench.request_path import _call, scenario_apps

SCENARIOS = ["health", "list", "retrieve", "portfolios"]
WARM_UP = 300


def _wait_for(path: Path, process: subprocess.Popen[bytes] | None = None) -> None:
    while not path.exists():
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the measured process ended early ({process.returncode})")
        time.sleep(0.1)


async def _serve_requests(arguments: argparse.Namespace, folder: Path) -> None:
    """The measured process: start, seed, warm up, then the counted requests between files."""
    async with AsyncExitStack() as stack:
        app, scope = (await scenario_apps(arguments, stack))[arguments.worker]
        for _ in range(WARM_UP):
            assert await _call(app, scope) == 200
        (folder / "ready").touch()
        _wait_for(folder / "go")
        for _ in range(arguments.count):
            await _call(app, scope)
        (folder / "done").touch()
        _wait_for(folder / "end")


def _control(pid: int, switch: str) -> None:
    subprocess.run(["callgrind_control", "-i", switch, str(pid)], check=True, capture_output=True)


def count(arguments: argparse.Namespace, scenario: str) -> int:
    """Instructions per request of one scenario, in a process of its own under callgrind."""
    with tempfile.TemporaryDirectory(prefix="instructions-") as name:
        folder = Path(name)
        command = [
            "valgrind", "--tool=callgrind", "--instr-atstart=no",
            f"--callgrind-out-file={folder / 'callgrind.out'}",
            sys.executable, "-m", "bench.instructions", "--worker", scenario,
            "--folder", name, "--count", str(arguments.count),
        ]  # fmt: skip
        if arguments.database_url:
            command += ["--database-url", arguments.database_url]
        output = subprocess.DEVNULL
        with subprocess.Popen(command, stdout=output, stderr=output) as process:
            _wait_for(folder / "ready", process)
            _control(process.pid, "on")
            (folder / "go").touch()
            _wait_for(folder / "done", process)
            _control(process.pid, "off")
            (folder / "end").touch()
            if process.wait() != 0:
                raise RuntimeError(f"{scenario}: the measured process failed")
        totals = re.search(r"^totals: (\d+)", (folder / "callgrind.out").read_text(), re.M)
        assert totals is not None, "callgrind wrote no totals"
        return int(totals.group(1)) // int(arguments.count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", help=f"of {', '.join(SCENARIOS)} (default: all)")
    parser.add_argument(
        "--database-url", help="a PostgreSQL server, for a database of its own (default: SQLite)"
    )
    parser.add_argument("--count", type=int, default=500, help="requests counted")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--plain", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    os.environ.setdefault("LOG_FORMAT", "json")
    if arguments.worker:
        asyncio.run(_serve_requests(arguments, Path(arguments.folder)))
        return
    if unknown := set(arguments.scenarios) - set(SCENARIOS):
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    for scenario in arguments.scenarios or SCENARIOS:
        print(f"{scenario:<12} {count(arguments, scenario):>10,} instructions a request")


if __name__ == "__main__":
    main()
