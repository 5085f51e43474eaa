"""Schemathesis drives a live server through every operation of /openapi.json and finds nothing.

One run with every phase (examples, coverage, fuzzing, and the stateful phase that follows the
links the document declares), then a few more stateful suites with seeds of their own, all with
the checks, seed and example budget of tests/schemathesis.toml, as a superuser. The stateful
calls must include, for each resource, an object created and then retrieved, updated and
deleted through the links. A few minutes: `make fuzz` runs it on PostgreSQL, as CI does;
`FUZZ=1 .venv/bin/pytest tests/test_schemathesis.py` on SQLite.
"""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.server import Server, live_server

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "schemathesis.toml"
HOOKS = HERE / "schemathesis_hooks.py"
ST = Path(sys.executable).parent / "st"
# Each stateful suite stops after a few dozen scenarios (see the config): these add more.
STATEFUL_SEEDS = (1, 2, 3, 4, 5, 6)
CHAINS = (
    "create_portfolio",
    "create_portfolio_link",
    "create_portfolio_meta",
    "create_employer",
    "create_tag",
    "upload_media",
)

pytestmark = pytest.mark.skipif(
    not os.environ.get("FUZZ"), reason="takes minutes: `make fuzz` (or FUZZ=1) runs it"
)


@pytest.fixture(scope="module")
def server_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "server.log"


@pytest.fixture(scope="module")
def server(backend: str, server_log: Path) -> Iterator[Server]:
    database_url = os.environ["DATABASE_URL"] if backend == "postgresql" else None
    with live_server(database_url, log=server_log) as running:
        yield running


@pytest.fixture
def api(server: Server) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Token {server.token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        yield client


def test_schemathesis_finds_nothing(
    server: Server, server_log: Path, api: httpx.Client, tmp_path: Path
) -> None:
    me = api.get("/api/auth/me").json()
    (own,) = api.get("/api/auth/tokens/").json()["results"]
    logout = api.post(f"/api/users/{me['id']}/tokens/", json={"name": "logout"}).json()
    calls = tmp_path / "stateful-calls.jsonl"
    environment = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": str(HOOKS),
        "FUZZ_TOKEN": server.token,
        "FUZZ_LOGOUT_TOKEN": logout["key"],
        "FUZZ_USER_ID": str(me["id"]),
        "FUZZ_TOKEN_IDS": f"{own['id']},{logout['id']}",
        "FUZZ_CALLS": str(calls),
    }

    def schemathesis(name: str, *options: str) -> dict[str, Any]:
        report = tmp_path / f"{name}.json"
        command = [
            str(ST), "--config-file", str(CONFIG), "--no-color", "run",
            f"{server.url}/openapi.json", "--report", "json", "--report-json-path", str(report),
            *options,
        ]  # fmt: skip
        result = subprocess.run(
            command, env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=1800
        )
        print(result.stdout, result.stderr, sep="\n")  # pytest shows it when the test fails
        if result.returncode != 0:
            print("server log (last lines):", *server_log.read_text().splitlines()[-60:], sep="\n")
        assert result.returncode == 0, f"{name}:\n{result.stdout[-3000:]}{result.stderr[-2000:]}"
        summary: dict[str, Any] = json.loads(report.read_text())
        return summary

    summary = schemathesis("all-phases")
    operations = summary["operations"]
    assert operations["tested"] == operations["selected"] == operations["total"], operations
    phases = {name: phase["status"] for name, phase in summary["phases"].items()}
    assert phases["coverage"] == phases["fuzzing"] == phases["stateful"] == "success", phases
    for seed in STATEFUL_SEEDS:
        schemathesis(f"stateful-{seed}", "--phases", "stateful", "--seed", str(seed))

    document = api.get("/openapi.json").json()
    made = [json.loads(line) for line in calls.read_text().splitlines()]
    for create in CHAINS:
        methods = methods_on_created_objects(document, made, create)
        print(f"{create}, then on the object: {', '.join(sorted(methods))}")
        assert {"get", "delete"} <= methods, (create, methods)
        assert methods & {"patch", "put"}, (create, methods)
    # The run never locked itself out: still a superuser, with the same token.
    after = api.get("/api/auth/me")
    assert after.status_code == 200
    assert (after.json()["is_active"], after.json()["is_superuser"]) == (True, True)


def methods_on_created_objects(
    document: dict[str, Any], calls: list[dict[str, Any]], create: str
) -> set[str]:
    """The methods of the item operations linked from `create` that succeeded, in the stateful
    phase, on an object that `create` made there."""
    operations = {
        operation["operationId"]: (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    created = {
        str(call["id"]) for call in calls if call["operation"] == create and call["status"] == 201
    }
    links = operations[create][2]["responses"]["201"]["links"]
    methods = set()
    for target, link in links.items():
        path, method, _ = operations[target]
        (name,) = [name for name, value in link["parameters"].items() if value.endswith("#/id")]
        if path.endswith("/"):
            continue  # a collection under the object, not the object
        answers = [call for call in calls if call["operation"] == target and call["status"] < 300]
        if any(call["path"].get(name) in created for call in answers):
            methods.add(method)
    return methods
