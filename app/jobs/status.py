"""`portfolio-api jobs status`: what waits, runs and failed, per kind, and how old the oldest
waiting item is. Deliveries and undispatched events are shown as kinds of their own."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Event, Job, WebhookDelivery
from app.models.base import utcnow


@dataclass(frozen=True)
class KindStatus:
    kind: str
    pending: int
    running: int
    failed: int
    oldest_pending: datetime | None

    def oldest_pending_age(self, now: datetime) -> float | None:
        if self.oldest_pending is None:
            return None
        return max((now - self.oldest_pending).total_seconds(), 0.0)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def queue_status(session: AsyncSession) -> list[KindStatus]:
    now = utcnow()
    running_job = (Job.status == "running") & (Job.locked_until >= now)
    pending_job = (Job.status == "pending") | ((Job.status == "running") & (Job.locked_until < now))
    jobs = await session.execute(
        select(
            Job.kind,
            _count(pending_job),
            _count(running_job),
            _count(Job.status == "failed"),
            func.min(case((pending_job, Job.run_at))),
        ).group_by(Job.kind)
    )
    found = [KindStatus(*row) for row in jobs.all()]
    undispatched = (
        await session.execute(
            select(func.count(), func.min(Event.created_at)).where(text("NOT event.dispatched"))
        )
    ).one()
    found.append(KindStatus("event.dispatch", undispatched[0], 0, 0, undispatched[1]))
    deliveries = (
        await session.execute(
            select(
                _count(WebhookDelivery.status == "pending"),
                _count(WebhookDelivery.status == "failed"),
                func.min(
                    case((WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at))
                ),
            )
        )
    ).one()
    found.append(KindStatus("webhook.delivery", deliveries[0], 0, deliveries[1], deliveries[2]))
    return sorted(found, key=lambda status: status.kind)
