"""`portfolio-api jobs status`."""

import json

from app.db import standalone_session
from app.jobs.status import queue_status
from app.models.base import utcnow


async def print_status(as_json: bool = False) -> None:
    async with standalone_session() as session:
        statuses = await queue_status(session)
    now = utcnow()
    if as_json:
        rows = [
            {
                "kind": status.kind,
                "pending": status.pending,
                "running": status.running,
                "failed": status.failed,
                "oldest_pending_age_seconds": status.oldest_pending_age(now),
            }
            for status in statuses
        ]
        print(json.dumps(rows, indent=2))
        return
    print(f"{'kind':<20} {'pending':>8} {'running':>8} {'failed':>8}  oldest pending")
    for status in statuses:
        age = status.oldest_pending_age(now)
        oldest = "-" if age is None else f"{age:.1f} s ago"
        print(
            f"{status.kind:<20} {status.pending:>8} {status.running:>8} {status.failed:>8}  "
            f"{oldest}"
        )
