"""`portfolio-api`: serve the API and manage its database from scripts and containers."""

import argparse
import asyncio
import logging
import logging.config
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from app.common.logs import logging_config, resolve_format
from app.settings import Settings, get_settings

Handler = Callable[[argparse.Namespace], int]


def configure_logging(settings: Settings) -> dict[str, Any]:
    """One format for every logger, on stdout (app.common.logs); returns the configuration,
    for uvicorn to apply in each worker process."""
    config = logging_config(settings.log_level, resolve_format(settings.log_format))
    logging.config.dictConfig(config)
    return config


def alembic_config_path() -> Path:
    """`alembic.ini` beside the source tree (development, Docker), else in the working dir."""
    beside_source = Path(__file__).resolve().parent.parent / "alembic.ini"
    return beside_source if beside_source.exists() else Path.cwd() / "alembic.ini"


def migrate(args: argparse.Namespace) -> int:
    from alembic import command
    from alembic.config import Config

    config = Config(str(alembic_config_path()))
    config.attributes["configure_logging"] = False  # ours, not alembic.ini's
    configure_logging(get_settings())
    command.upgrade(config, args.revision)
    return 0


def serve(args: argparse.Namespace) -> int:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    class Supervisor(Multiprocess):
        """uvicorn's supervisor keeps its copy of the listening socket open while the workers
        drain after SIGTERM, so new connections hang unanswered; closed, they are refused."""

        def terminate_all(self) -> None:
            for sock in self.sockets:
                sock.close()
            super().terminate_all()

        workers: frozenset[int | None] = frozenset()

        def keep_subprocess_alive(self) -> None:
            """A worker replaced (it died, or SIGHUP or SIGTTOU retired it) leaves the sums of
            the live gauges; its counts stay, as the requests it served do."""
            from prometheus_client.multiprocess import mark_process_dead

            super().keep_subprocess_alive()
            running = frozenset(process.pid for process in self.processes)
            for pid in self.workers - running:
                if pid is not None:
                    mark_process_dead(pid)  # type: ignore[no-untyped-call]
            self.workers = running

    settings = get_settings()
    log_config = configure_logging(settings)
    if args.migrate:
        migrate(argparse.Namespace(revision="head"))
    config = uvicorn.Config(
        "app.main:create_served_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="httptools",
        # Forwarded headers are applied by the app's own middleware, from TRUSTED_PROXIES.
        proxy_headers=False,
        access_log=False,
        log_config=log_config,
        timeout_graceful_shutdown=30,
    )
    if config.workers > 1:
        # prometheus-client's multiprocess mode: each worker writes its metrics to files there
        # and /metrics sums them. A new directory for each run, so nothing is counted twice.
        metrics_dir = tempfile.mkdtemp(prefix="portfolio-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        try:
            Supervisor(config, sockets=[config.bind_socket()]).run()
        finally:
            shutil.rmtree(metrics_dir, ignore_errors=True)
        return 0
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)  # one process: metrics in its memory
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else 3  # uvicorn's code for a failed start


def createsuperuser(args: argparse.Namespace) -> int:
    from app.auth import commands

    password = commands.read_password(args.password)
    user = asyncio.run(
        commands.create_user(args.username, password, email=args.email, superuser=True)
    )
    print(f"superuser {user.username!r} created (id {user.id})")
    return 0


def createuser(args: argparse.Namespace) -> int:
    from app.auth import commands

    user = asyncio.run(
        commands.create_user(
            args.username,
            commands.read_password(args.password),
            email=args.email,
            staff=args.staff,
            permissions=args.perm,
        )
    )
    print(f"user {user.username!r} created (id {user.id})")
    return 0


def token_create(args: argparse.Namespace) -> int:
    from app.auth import commands

    days = None if args.no_expiry else args.expires_days
    key = asyncio.run(commands.create_token(args.username, args.name, days))
    print(f"token for {args.username!r} created; it is shown only now:")
    print(key)
    return 0


def token_revoke(args: argparse.Namespace) -> int:
    from app.auth import commands

    token_id = asyncio.run(commands.revoke_token(args.key_or_id))
    print(f"token {token_id} revoked")
    return 0


def worker(_args: argparse.Namespace) -> int:
    from app.jobs.running import run_until_signalled

    settings = get_settings()
    configure_logging(settings)
    asyncio.run(run_until_signalled(settings))
    return 0


def jobs_status(args: argparse.Namespace) -> int:
    from app.jobs.commands import print_status

    asyncio.run(print_status(as_json=args.json))
    return 0


def perms_list(_args: argparse.Namespace) -> int:
    from app.auth.permissions import Permission

    for permission in Permission:
        print(f"{permission.value}  {permission.name.lower():<18} {permission.label}")
    return 0


def media_gc(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from app.media.commands import collect_garbage

    minutes = timedelta(minutes=args.min_age_minutes)
    keys = asyncio.run(collect_garbage(delete=args.delete, min_age=minutes))
    for key in keys:
        print(key)
    if args.delete:
        print(f"{len(keys)} orphaned files deleted")
    else:
        print(f"{len(keys)} orphaned files (dry run: nothing deleted; pass --delete)")
    return 0


def media_migrate_storage(args: argparse.Namespace) -> int:
    from app.media.storage_migration import migrate_storage

    try:
        report = asyncio.run(
            migrate_storage(
                get_settings(), delete_local=args.delete_local, progress_stream=sys.stderr
            )
        )
    except KeyboardInterrupt:
        print("portfolio-api: interrupted: run it again to resume", file=sys.stderr)
        return 130
    for line in report.lines():
        print(line)
    for media_id, keys in report.missing.items():
        print(f"file {media_id} not moved, missing locally: {', '.join(keys)}", file=sys.stderr)
    return 1 if report.missing else 0


def media_variants(args: argparse.Namespace) -> int:
    from app.media.backfill import make_variants_for_existing

    try:
        report = asyncio.run(
            make_variants_for_existing(
                get_settings(),
                missing=args.missing,
                formats=args.format,
                progress_stream=sys.stderr,
            )
        )
    except KeyboardInterrupt:
        print("portfolio-api: interrupted: run it again with --missing to resume", file=sys.stderr)
        return 130
    for line in report.lines():
        print(line)
    return 1 if report.failed else 0


def seed(_args: argparse.Namespace) -> int:
    from app.demo.seed import seed_demo

    settings = get_settings()
    if settings.environment == "production":
        print(
            "portfolio-api: demo data is not for production (ENVIRONMENT=production)",
            file=sys.stderr,
        )
        return 2
    try:
        report = asyncio.run(seed_demo(settings, progress_stream=sys.stderr))
    except KeyboardInterrupt:
        message = "interrupted: what was created stays; run it again to finish"
        print(f"portfolio-api: {message}", file=sys.stderr)
        return 130
    for line in report.lines():
        print(line)
    return 0


def import_original(args: argparse.Namespace) -> int:
    from app.common.commands import CommandError
    from app.importer.run import import_original as run_import
    from app.importer.writer import Options

    if args.dry_run and args.verify:
        raise CommandError("--verify compares what was imported: run it without --dry-run")
    token = args.token or os.environ.get("ORIGINAL_TOKEN")
    if not token:
        raise CommandError("no token for the original: pass --token or set ORIGINAL_TOKEN")
    options = Options(
        source=args.source.rstrip("/"),
        dry_run=args.dry_run,
        files=not args.no_files,
        emit_events=args.emit_events,
        prune=args.prune,
    )
    try:
        report, verification = asyncio.run(
            run_import(
                get_settings(), options, token, check=args.verify, progress_stream=sys.stderr
            )
        )
    except KeyboardInterrupt:
        print("portfolio-api: interrupted: run it again to resume", file=sys.stderr)
        return 130
    for line in report.lines():
        print(line)
    for problem in report.problems:
        print(problem, file=sys.stderr)
    if verification is not None:
        for line in verification.lines():
            print(line)
    differs = verification is not None and bool(verification.differences)
    return 2 if report.not_imported or differs else 0


def _add_import_command(commands: Any) -> None:
    parser = commands.add_parser(
        "import-original",
        help="import an original (Django REST Framework) deployment through its API",
        description="Read the original's portfolios, links, employers, tags, media and meta "
        "through its API and write them here with their ids, slugs and timestamps; files are "
        "downloaded and stored as uploads are. Run it again to sync. Exit status 1: the "
        "original could not be read; 2: some objects were not imported (each is reported).",
    )
    parser.add_argument(
        "--from", dest="source", required=True, metavar="URL", help="the original's base URL"
    )
    parser.add_argument("--token", help="an API token of the original (else $ORIGINAL_TOKEN)")
    parser.add_argument(
        "--dry-run", action="store_true", help="report what it would do; write nothing"
    )
    parser.add_argument(
        "--no-files",
        action="store_true",
        help="no media: skip downloads (references to files stay empty until a run with them)",
    )
    parser.add_argument(
        "--emit-events",
        action="store_true",
        help="a change event per object (default: one import.completed event)",
    )
    parser.add_argument(
        "--prune",
        action="store_true",
        help="move to the trash what an earlier import brought and the original no longer has",
    )
    parser.add_argument(
        "--verify", action="store_true", help="then compare both APIs' bodies of every object"
    )
    parser.set_defaults(handler=import_original)


def _add_job_commands(commands: Any) -> None:
    parser = commands.add_parser(
        "worker", help="run background jobs (webhook deliveries, retention) until SIGTERM"
    )
    parser.set_defaults(handler=worker)
    jobs = commands.add_parser("jobs", help="the background job queue")
    jobs_commands = jobs.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")
    parser = jobs_commands.add_parser(
        "status", help="pending, running and failed per kind, and the oldest pending age"
    )
    parser.add_argument("--json", action="store_true", help="one JSON document")
    parser.set_defaults(handler=jobs_status)


def _add_seed_command(commands: Any) -> None:
    parser = commands.add_parser("seed", help="create demo data to try the API with")
    parser.add_argument(
        "--demo",
        action="store_true",
        required=True,
        help="portfolios, employers, tags, images, links and meta in Persian and English; "
        "what already exists (same title or name) is skipped",
    )
    parser.set_defaults(handler=seed)


def _add_media_commands(commands: Any) -> None:
    media = commands.add_parser("media", help="media storage maintenance")
    media_commands = media.add_subparsers(dest="media_command", required=True, metavar="ACTION")
    parser = media_commands.add_parser("gc", help="list (or delete) files no row points to")
    parser.add_argument("--delete", action="store_true", help="delete them (default: dry run)")
    parser.add_argument(
        "--min-age-minutes",
        type=int,
        default=60,
        metavar="M",
        help="skip files younger than this, which an upload may still be committing (default 60)",
    )
    parser.set_defaults(handler=media_gc)
    parser = media_commands.add_parser(
        "migrate-storage", help="copy local files to S3 and switch their rows (resumable)"
    )
    parser.add_argument("--to", choices=["s3"], required=True, help="the target backend")
    parser.add_argument(
        "--delete-local",
        action="store_true",
        help="remove the local files of moved rows (once the app serves from S3)",
    )
    parser.set_defaults(handler=media_migrate_storage)
    parser = media_commands.add_parser(
        "variants", help="make the WebP/AVIF variants of existing images (resumable)"
    )
    parser.add_argument(
        "--missing",
        action="store_true",
        help="only images lacking some (default: every image's, made afresh)",
    )
    parser.add_argument(
        "--format",
        action="append",
        choices=["webp", "avif"],
        help="only this format (repeatable; default: MEDIA_VARIANT_FORMATS)",
    )
    parser.set_defaults(handler=media_variants)


# The same sources, in this order, for both account commands (app.auth.commands.read_password).
PASSWORD_HELP = (
    "the password (other local users can see it in `ps`); "
    "else $PORTFOLIO_API_PASSWORD, else asked twice on a terminal"
)


def _add_account_commands(commands: Any) -> None:
    parser = commands.add_parser("createsuperuser", help="create a superuser")
    parser.add_argument("--username", required=True)
    parser.add_argument("--email", default="")
    parser.add_argument("--password", help=PASSWORD_HELP)
    parser.set_defaults(handler=createsuperuser)

    parser = commands.add_parser("createuser", help="create a user, staff with codes if asked")
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", help=PASSWORD_HELP)
    parser.add_argument("--email", default="")
    parser.add_argument("--staff", action="store_true", help="staff may use their codes")
    parser.add_argument(
        "--perm", action="append", default=[], metavar="CODE", help="a permission code; repeat"
    )
    parser.set_defaults(handler=createuser)

    token = commands.add_parser("token", help="create or revoke API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    parser = token_commands.add_parser("create", help="create a token; prints the key last")
    parser.add_argument("username")
    parser.add_argument("--name", default="created with the CLI")
    expiry = parser.add_mutually_exclusive_group()
    expiry.add_argument("--expires-days", type=int, default=30, metavar="D", help="default 30")
    expiry.add_argument("--no-expiry", action="store_true", help="a token that never expires")
    parser.set_defaults(handler=token_create)
    parser = token_commands.add_parser("revoke", help="revoke a token by its key or id")
    parser.add_argument("key_or_id")
    parser.set_defaults(handler=token_revoke)

    perms = commands.add_parser("perms", help="permission codes")
    perms_commands = perms.add_subparsers(dest="perms_command", required=True, metavar="ACTION")
    perms_commands.add_parser("list", help="list every code").set_defaults(handler=perms_list)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portfolio-api",
        description="Portfolio API: serve it and manage its database.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve_parser = commands.add_parser("serve", help="serve the API with uvicorn")
    serve_parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    serve_parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve_parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY", "1")),
        help="processes (default: $WEB_CONCURRENCY or 1)",
    )
    serve_parser.add_argument(
        "--migrate", action="store_true", help="apply migrations first (container start)"
    )
    serve_parser.set_defaults(handler=serve)

    migrate_parser = commands.add_parser("migrate", help="apply database migrations")
    migrate_parser.add_argument("revision", nargs="?", default="head", help="default: head")
    migrate_parser.set_defaults(handler=migrate)
    _add_account_commands(commands)
    _add_media_commands(commands)
    _add_seed_command(commands)
    _add_job_commands(commands)
    _add_import_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from app.common.commands import CommandError

    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except CommandError as error:
        print(f"portfolio-api: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
