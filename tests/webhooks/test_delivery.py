"""Deliveries end to end: a change committed through the API reaches a real receiver on
loopback, signed so that the `standardwebhooks` package verifies it; failures are retried on the
schedule, 410 and long failure deactivate, order holds per endpoint, and two workers deliver
each event once."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update
from standardwebhooks.webhooks import Webhook

from app.jobs.worker import Worker
from app.models import Base, Event, WebhookDelivery, WebhookEndpoint
from app.models.base import utcnow
from app.webhooks.signing import new_secret
from tests.factories import create_row, create_staff
from tests.webhooks.receiver import Answer, Receiver

TAG_CREATE = 4221
TAG_UPDATE = 4223


@pytest.fixture
async def committed(app, committing_client):
    """Real commits, seen by the workers' own connections; every table emptied afterwards."""
    return committing_client


def fast(settings, **overrides):
    """Settings whose retry schedule runs in a fraction of a second."""
    values = {
        "webhook_retry_schedule": [0.05, 0.05, 0.05],
        "webhook_retry_jitter": 0.0,
        "webhook_timeout": 2.0,
        "worker_poll_interval": 0.2,
        "worker_lease_seconds": 5.0,
        "worker_shutdown_grace": 2.0,
        **overrides,
    }
    return settings.model_copy(update=values)


@pytest.fixture
async def worker_for(app, settings) -> AsyncIterator:
    """Start workers on the app's database; all are stopped at the end of the test."""
    running: list[tuple[Worker, asyncio.Task]] = []

    def start(**overrides) -> Worker:
        worker = Worker(app.state.engine, fast(settings, **overrides))
        running.append((worker, asyncio.create_task(worker.run())))
        return worker

    yield start
    for worker, _task in running:
        worker.stop()
    await asyncio.gather(*(task for _worker, task in running))


async def endpoint(app, url, **fields) -> WebhookEndpoint:
    return await create_row(app, WebhookEndpoint, url=url, secret=new_secret(), **fields)


async def deliveries(app, endpoint_id) -> list[WebhookDelivery]:
    async with app.state.sessionmaker() as session:
        found = await session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookDelivery.id)
        )
        return list(found.all())


async def until(condition, within: float = 10.0, every: float = 0.05):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = await condition()
        if result:
            return result
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(every)


async def create_tags(app, client, count: int) -> list[dict]:
    caller = await create_staff(app, TAG_CREATE, TAG_UPDATE)
    created = []
    for number in range(count):
        response = await client.post(
            "/api/tags/", json={"name": f"tag {number}"}, headers=caller.headers
        )
        assert response.status_code == 201, response.text
        created.append(response.json())
    return created


async def test_a_committed_change_arrives_signed_and_verifiable(app, committed, worker_for):
    async with Receiver() as receiver:
        hook = await endpoint(app, receiver.url)
        worker_for()
        [tag] = await create_tags(app, committed, 1)
        [received] = await receiver.wait_for(1)

    payload = Webhook(hook.secret).verify(received.body, received.headers)
    assert payload["type"] == "tag.created"
    assert payload["data"] == tag
    assert set(payload["actor"]) == {"id", "username"}
    assert payload["via"] == "api"
    assert received.headers["webhook-id"] == payload["id"]
    assert received.headers["content-type"] == "application/json"
    assert abs(int(received.headers["webhook-timestamp"]) - utcnow().timestamp()) < 30
    [delivery] = await until(lambda: _settled(app, hook.id))
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)


async def _settled(app, endpoint_id):
    found = await deliveries(app, endpoint_id)
    return found if found and all(d.status != "pending" for d in found) else None


async def test_a_failing_receiver_gets_the_same_event_again_until_it_succeeds(
    app, committed, worker_for
):
    answers = iter([Answer(500), Answer(502), Answer(200)])
    async with Receiver(lambda _request: next(answers)) as receiver:
        hook = await endpoint(app, receiver.url)
        worker_for()
        await create_tags(app, committed, 1)
        received = await receiver.wait_for(3)
        [delivery] = await until(lambda: _settled(app, hook.id))

    assert len({request.headers["webhook-id"] for request in received}) == 1
    assert len({request.body for request in received}) == 1
    for request in received:  # each attempt signed afresh, each verifiable
        Webhook(hook.secret).verify(request.body, request.headers)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 3, 200)


async def test_after_the_last_retry_the_delivery_is_failed(app, committed, worker_for):
    async with Receiver(lambda _request: Answer(500)) as receiver:
        hook = await endpoint(app, receiver.url)
        worker_for(webhook_retry_schedule=[0.05, 0.05])
        await create_tags(app, committed, 1)
        [delivery] = await until(lambda: _settled(app, hook.id))
        await asyncio.sleep(0.3)
        assert len(receiver.received) == 3  # the first attempt and two retries, no more

    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 3, 500)
    assert delivery.last_error == "The endpoint answered 500."
    assert delivery.next_attempt_at is None


async def test_retry_after_on_503_is_honoured(app, committed, worker_for):
    async with Receiver(lambda _request: Answer(503, {"Retry-After": "120"})) as receiver:
        hook = await endpoint(app, receiver.url)
        worker_for()
        await create_tags(app, committed, 1)
        await receiver.wait_for(1)
        [delivery] = await until(lambda: _attempted(app, hook.id))
    wait = (delivery.next_attempt_at - delivery.updated_at).total_seconds()
    assert delivery.status == "pending"
    assert 119 <= wait <= 121


async def _attempted(app, endpoint_id):
    found = await deliveries(app, endpoint_id)
    return found if found and all(d.attempts for d in found) else None


async def test_410_deactivates_the_endpoint_and_tells_the_others(app, committed, worker_for):
    async with (
        Receiver(lambda _request: Answer(410)) as gone,
        Receiver() as other,
    ):
        gone_hook = await endpoint(app, gone.url)
        other_hook = await endpoint(app, other.url, events=["webhook.*"])
        await _record_events(app, 2)
        worker_for()
        [notice] = await other.wait_for(1)
        await asyncio.sleep(0.2)
        assert len(gone.received) == 1  # nothing more after the 410

    payload = Webhook(other_hook.secret).verify(notice.body, notice.headers)
    assert payload["type"] == "webhook.deactivated"
    assert payload["actor"] is None
    assert payload["via"] == "worker"
    assert payload["data"]["id"] == gone_hook.id
    assert payload["data"]["is_active"] is False
    assert payload["data"]["reason"] == "gone"
    assert "secret" not in payload["data"]
    first, second = await deliveries(app, gone_hook.id)
    assert (first.status, first.last_status_code) == ("failed", 410)
    assert (second.status, second.attempts) == ("failed", 0)
    async with app.state.sessionmaker() as session:
        assert (await session.get(WebhookEndpoint, gone_hook.id)).is_active is False


async def test_an_endpoint_failing_for_too_long_is_deactivated(app, committed, worker_for):
    async with Receiver(lambda _request: Answer(500)) as receiver:
        hook = await endpoint(
            app, receiver.url, failing_since=utcnow() - timedelta(days=5, seconds=1)
        )
        worker_for()
        await create_tags(app, committed, 1)
        await receiver.wait_for(1)

        async def deactivated():
            async with app.state.sessionmaker() as session:
                return not (await session.get(WebhookEndpoint, hook.id)).is_active

        await until(deactivated)


async def test_a_success_clears_the_failing_state(app, committed, worker_for):
    async with Receiver() as receiver:
        hook = await endpoint(app, receiver.url, failing_since=utcnow() - timedelta(days=4))
        worker_for()
        await create_tags(app, committed, 1)
        await until(lambda: _settled(app, hook.id))
    async with app.state.sessionmaker() as session:
        assert (await session.get(WebhookEndpoint, hook.id)).failing_since is None


async def test_an_endpoint_gets_only_the_types_its_filter_takes(app, committed, worker_for):
    async with Receiver() as tags_only, Receiver() as portfolios_only:
        await endpoint(app, tags_only.url, events=["tag.updated", "tag.created"])
        quiet = await endpoint(app, portfolios_only.url, events=["portfolio.*"])
        worker_for()
        await create_tags(app, committed, 2)
        received = await tags_only.wait_for(2)
        await asyncio.sleep(0.3)

    assert [json.loads(r.body)["type"] for r in received] == ["tag.created", "tag.created"]
    assert portfolios_only.received == []
    assert await deliveries(app, quiet.id) == []


async def test_each_endpoint_receives_events_in_commit_order(app, committed, worker_for):
    async with Receiver() as receiver:
        await endpoint(app, receiver.url)
        tags = await create_tags(app, committed, 30)
        worker_for()
        received = await receiver.wait_for(30)

    assert [json.loads(r.body)["data"]["id"] for r in received] == [tag["id"] for tag in tags]


async def test_two_workers_deliver_each_of_200_events_once(app, committed, worker_for):
    async with Receiver() as first, Receiver() as second:
        hooks = [await endpoint(app, first.url), await endpoint(app, second.url)]
        await _record_events(app, 200)
        worker_for(worker_concurrency=2)
        worker_for(worker_concurrency=2)
        for receiver in (first, second):
            await receiver.wait_for(200, within=30)
        await asyncio.sleep(0.3)

        for receiver in (first, second):
            ids = [request.headers["webhook-id"] for request in receiver.received]
            assert len(ids) == 200
            assert len(set(ids)) == 200
    for hook in hooks:
        settled = await until(lambda hook=hook: _settled(app, hook.id))
        assert {d.status for d in settled} == {"succeeded"}
        assert {d.attempts for d in settled} == {1}


async def _record_events(app, count: int) -> None:
    from app.events import outbox

    async with app.state.sessionmaker() as session:
        for number in range(count):
            await outbox.record(session, "tag.created", {"id": number, "name": f"t{number}"})
        await session.commit()


async def test_a_rotated_secret_signs_beside_the_new_one(app, committed, worker_for):
    old, new = new_secret(), new_secret()
    async with Receiver() as receiver:
        await create_row(
            app,
            WebhookEndpoint,
            url=receiver.url,
            secret=new,
            previous_secret=old,
            previous_secret_expires_at=utcnow() + timedelta(hours=24),
        )
        worker_for()
        await _record_events(app, 1)
        [received] = await receiver.wait_for(1)

    assert len(received.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(received.body, received.headers)
    Webhook(new).verify(received.body, received.headers)


async def test_an_expired_previous_secret_no_longer_signs(app, committed, worker_for):
    old, new = new_secret(), new_secret()
    async with Receiver() as receiver:
        await create_row(
            app,
            WebhookEndpoint,
            url=receiver.url,
            secret=new,
            previous_secret=old,
            previous_secret_expires_at=utcnow() - timedelta(seconds=1),
        )
        worker_for()
        await _record_events(app, 1)
        [received] = await receiver.wait_for(1)

    assert len(received.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(received.body, received.headers)


async def test_a_private_address_is_refused_at_delivery_in_production_mode(
    app, committed, worker_for
):
    async with Receiver() as receiver:
        hook = await endpoint(app, receiver.url.replace("127.0.0.1", "localhost"))
        worker_for(webhook_allow_private=False, webhook_retry_schedule=[])
        await _record_events(app, 1)
        [delivery] = await until(lambda: _settled(app, hook.id))
        assert receiver.received == []
    assert delivery.status == "failed"
    assert "may not reach" in delivery.last_error


async def test_a_stopping_worker_finishes_the_attempt_under_way(app, committed, worker_for):
    async with Receiver(lambda _request: Answer(200, delay=0.5)) as receiver:
        hook = await endpoint(app, receiver.url)
        worker = worker_for()
        await _record_events(app, 3)
        await receiver.wait_for(1)
        worker.stop()
        await asyncio.sleep(1.0)
        found = await deliveries(app, hook.id)

    assert found[0].status == "succeeded"
    assert [d.status for d in found[1:]] == ["pending", "pending"]
    async with app.state.sessionmaker() as session:
        lease = (await session.get(WebhookEndpoint, hook.id)).lease_until
    assert lease is None  # given back: another worker may take over at once


async def test_a_worker_that_died_mid_delivery_is_taken_over_after_its_lease(
    app, committed, worker_for
):
    async with Receiver() as receiver:
        hook = await endpoint(app, receiver.url)
        await _record_events(app, 1)
        # The state a worker killed outright leaves: its lease on the endpoint, the event
        # dispatched, the attempt never recorded.
        first = worker_for(worker_poll_interval=30)
        await until(lambda: _settled(app, hook.id))
        first.stop()
        await asyncio.sleep(0.3)
        async with app.state.sessionmaker() as session:
            await session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.endpoint_id == hook.id)
                .values(status="pending", attempts=0, next_attempt_at=utcnow())
            )
            await session.execute(
                update(WebhookEndpoint)
                .where(WebhookEndpoint.id == hook.id)
                .values(lease_owner="dead", lease_until=utcnow() + timedelta(seconds=1))
            )
            await session.commit()
        worker_for(worker_poll_interval=0.2)
        await asyncio.sleep(0.5)
        assert len(receiver.received) == 1  # the lease still holds
        received = await receiver.wait_for(2)

    assert received[0].headers["webhook-id"] == received[1].headers["webhook-id"]


async def test_retention_deletes_old_events_and_deliveries(app, committed):
    from app.jobs.periodic import retention

    async with app.state.sessionmaker() as session:
        hook = WebhookEndpoint(url="https://example.com/", secret=new_secret())
        session.add(hook)
        await session.flush()
        for age_days in (31, 1):
            created_at = utcnow() - timedelta(days=age_days)
            event = Event(
                id=f"evt_{age_days}", type="tag.created", body="{}", created_at=created_at
            )
            session.add(event)
            await session.flush()
            session.add(
                WebhookDelivery(
                    endpoint_id=hook.id,
                    event_seq=event.seq,
                    event_id=event.id,
                    type=event.type,
                    created_at=created_at,
                    updated_at=created_at,
                )
            )
        await session.commit()
        await retention(session, app.state.settings)
        await session.commit()
        assert (await session.scalars(select(Event.id))).all() == ["evt_1"]
        assert (await session.scalars(select(WebhookDelivery.event_id))).all() == ["evt_1"]


@pytest.fixture(autouse=True)
async def _empty_tables(app):
    yield
    async with app.state.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(delete(table))
