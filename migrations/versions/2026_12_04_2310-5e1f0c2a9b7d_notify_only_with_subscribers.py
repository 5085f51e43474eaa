"""an event wakes the workers only when some webhook endpoint is active

NOTIFY takes a lock on PostgreSQL's one notification queue as its transaction commits, which
concurrent writes then queue on. An event with no active endpoint has nothing to deliver (the
dispatcher marks it when it next runs, polled or woken by other work), so its insert no longer
notifies; a job's insert always does.

Revision ID: 5e1f0c2a9b7d
Revises: c6e2b641b810
Create Date: 2026-12-04 23:10:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5e1f0c2a9b7d"
down_revision: str | None = "c6e2b641b810"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAKE_FOR_SUBSCRIBERS = """
CREATE FUNCTION portfolio_api_wake_subscribers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM webhook_endpoint WHERE is_active) THEN
        PERFORM pg_notify('portfolio_api_jobs', TG_TABLE_NAME);
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(WAKE_FOR_SUBSCRIBERS)
    op.execute("DROP TRIGGER event_wakes_workers ON event")
    op.execute(
        "CREATE TRIGGER event_wakes_workers AFTER INSERT ON event"
        " FOR EACH STATEMENT EXECUTE FUNCTION portfolio_api_wake_subscribers()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER event_wakes_workers ON event")
    op.execute(
        "CREATE TRIGGER event_wakes_workers AFTER INSERT ON event"
        " FOR EACH STATEMENT EXECUTE FUNCTION portfolio_api_wake_workers()"
    )
    op.execute("DROP FUNCTION portfolio_api_wake_subscribers()")
