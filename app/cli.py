"""`portfolio-api`: serve the API and manage its database from scripts and containers."""

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from app.settings import get_settings

Handler = Callable[[argparse.Namespace], int]


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    access = logging.StreamHandler(sys.stdout)
    access.setFormatter(logging.Formatter("%(message)s"))  # already one JSON object
    logging.basicConfig(level=level.upper(), handlers=[handler])
    access_logger = logging.getLogger("app.access")
    access_logger.handlers = [access]
    access_logger.propagate = False


def alembic_config_path() -> Path:
    """`alembic.ini` beside the source tree (development, Docker), else in the working dir."""
    beside_source = Path(__file__).resolve().parent.parent / "alembic.ini"
    return beside_source if beside_source.exists() else Path.cwd() / "alembic.ini"


def migrate(args: argparse.Namespace) -> int:
    from alembic import command
    from alembic.config import Config

    config = Config(str(alembic_config_path()))
    command.upgrade(config, args.revision)
    return 0


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    configure_logging(settings.log_level)
    if args.migrate:
        migrate(argparse.Namespace(revision="head"))
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="httptools",
        # Forwarded headers are applied by the app's own middleware, from TRUSTED_PROXIES.
        proxy_headers=False,
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=30,
    )
    return 0


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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
