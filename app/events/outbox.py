"""Recording a change event in the transaction of the change: a rolled-back change leaves no
event, and a committed one is in the database before the client hears of it (API.md, "Change
events and webhooks"). The workers deliver it; the request only inserts one row."""

import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.common.crud import FieldChanges, json_text
from app.common.sql import Prepared
from app.db import after_commit
from app.history import recorder as history_recorder
from app.jobs.wakeup import wake_local_workers
from app.models import Event
from app.models.base import utcnow
from app.public import invalidation as public

KINDS = ("portfolio", "link", "meta", "employer", "tag", "media")
ACTIONS = ("created", "updated", "deleted")
# Every type a webhook endpoint can ask for (restored, purged, reordered, variants_ready and
# import.completed arrive with the trash, media and import features).
TYPES = (
    *(f"{kind}.{action}" for kind in KINDS for action in ACTIONS),
    *(f"{kind}.{action}" for kind in KINDS for action in ("restored", "purged")),
    "portfolio.reordered",
    "link.reordered",
    "media.variants_ready",
    "import.completed",
    "webhook.ping",
    "webhook.deactivated",
)
CHILD_KINDS = frozenset({"link", "meta"})

_ACTOR = "event_actor"
_WAKES = "event_wakes_workers"
_INSERT = insert(Event)

Data = bytes | str | Mapping[str, Any]


def act_as(session: AsyncSession, user_id: int, username: str) -> None:
    """The user whose request this session serves: the `actor` of its events."""
    session.info[_ACTOR] = ({"id": user_id, "username": username}, "api")


def act_via(session: AsyncSession, via: str) -> None:
    """Writes that no API user made: `"cli"`, `"worker"` or `"import"` (actor `null`)."""
    session.info[_ACTOR] = (None, via)


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def timestamp_text(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, to the microsecond."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _data_text(data: Data, portfolio_id: int | None) -> str:
    """The object's JSON as the staff API answered it, spliced rather than parsed again (it is an
    object this service wrote); a child also names its portfolio."""
    text = data.decode() if isinstance(data, bytes) else data
    if not isinstance(text, str):
        text = json_text(text)
    if portfolio_id is None:
        return text
    opening = text[:-1].rstrip()
    separator = "" if opening == "{" else ","
    return f'{opening}{separator}"portfolio_id":{int(portfolio_id)}}}'


def _event_row(
    session: AsyncSession,
    type: str,
    data: Data,
    portfolio_id: int | None,
    changed: Iterable[str] | None,
) -> dict[str, Any]:
    """The event's row, its body written once here and sent byte for byte on every attempt."""
    actor, via = current_actor(session)
    event_id = new_event_id()
    now = utcnow()
    head = {"id": event_id, "type": type, "timestamp": timestamp_text(now), "actor": actor}
    tail = f',"changed":{json.dumps(list(changed))}' if changed is not None else ""
    body = (
        f'{json_text(head)[:-1]},"via":{json.dumps(via)},'
        f'"data":{_data_text(data, portfolio_id)}{tail}}}'
    )
    return {"id": event_id, "type": type, "created_at": now, "body": body}


def _wake_workers_after_commit(session: AsyncSession) -> None:
    if not session.info.get(_WAKES):
        session.info[_WAKES] = True
        after_commit(session, wake_local_workers)


async def record(
    session: AsyncSession,
    type: str,
    data: Data,
    *,
    portfolio_id: int | None = None,
    changed: Iterable[str] | None = None,
    endpoint_id: int | None = None,
    dispatched: bool = False,
) -> tuple[int, str]:
    """Add the event to the session's transaction: its `seq` and id. `changed` only for
    updates; `endpoint_id` for an event meant for one endpoint only, and `dispatched` for one
    whose deliveries the caller makes itself."""
    row = _event_row(session, type, data, portfolio_id, changed)
    connection = await session.connection()
    inserted = await connection.execute(
        _INSERT, {**row, "endpoint_id": endpoint_id, "dispatched": dispatched}
    )
    _wake_workers_after_commit(session)
    seq: int = inserted.inserted_primary_key[0]  # type: ignore[index]
    return seq, row["id"]


# On PostgreSQL a change's history entry and event go in one round trip (a write's latency is
# mostly round trips); SQLite, in process, takes the two inserts.
_HISTORY_AND_EVENT = Prepared(
    text(
        "WITH history_entry AS ("
        " INSERT INTO history (at, actor_id, actor_username, via, action, kind, object_id,"
        " changes) VALUES (:created_at, :actor_id, :actor_username, :via, :action, :kind,"
        " :object_id, CAST(:changes AS json))"
        " ), public_change AS (SELECT pg_notify('portfolio_api_public', :public_keys))"
        " INSERT INTO event (id, type, created_at, body, dispatched)"
        " VALUES (:id, :type, :created_at, :body, false)"
        # A SELECT in a WITH runs only where it is referenced: here, once.
        " RETURNING seq, (SELECT count(*) FROM public_change)"
    )
)


def current_actor(session: AsyncSession) -> tuple[dict[str, Any] | None, str]:
    """Who makes the session's changes (None when no API user does) and through what."""
    actor: tuple[dict[str, Any] | None, str] = session.info.get(_ACTOR, (None, "cli"))
    return actor


async def _change(
    session: AsyncSession,
    kind: str,
    action: str,
    object_id: int | None,
    data: Data,
    history: Mapping[str, tuple[Any, Any]],
    portfolio_id: int | None,
    changed: Iterable[str] | None = None,
) -> str:
    """The event and the history entry of one change to one object, and the public bodies it
    makes stale dropped everywhere once it commits."""
    actor, via = current_actor(session)
    row = _event_row(session, f"{kind}.{action}", data, portfolio_id, changed)
    stale = public.keys_changed(kind, object_id, portfolio_id)
    public.drop_here_after_commit(session, stale)
    if session.get_bind().dialect.name != "postgresql":
        await history_recorder.record(session, actor, via, action, kind, object_id, history)
        await (await session.connection()).execute(_INSERT, row)
    else:
        entry = history_recorder.values(actor, via, action, kind, object_id, history)
        changes = json_text(entry["changes"])
        params = {**entry, **row, "changes": changes, "public_keys": public.notify_text(stale)}
        await _HISTORY_AND_EVENT.rows(session, params)
    _wake_workers_after_commit(session)
    event_id: str = row["id"]
    return event_id


async def created(
    session: AsyncSession,
    kind: str,
    object_id: int,
    data: Data,
    fields: Mapping[str, Any],
    portfolio_id: int | None = None,
) -> str:
    """`fields`: what the object was created with, by the names a client writes."""
    history = {field: (None, value) for field, value in fields.items()}
    return await _change(session, kind, "created", object_id, data, history, portfolio_id)


async def updated(
    session: AsyncSession,
    kind: str,
    object_id: int,
    data: Data,
    changed: FieldChanges,
    portfolio_id: int | None = None,
) -> str:
    return await _change(
        session, kind, "updated", object_id, data, changed, portfolio_id, changed=changed
    )


async def deleted(
    session: AsyncSession,
    kind: str,
    object_id: int,
    data: Data,
    portfolio_id: int | None = None,
) -> str:
    """`data` is the object as it was, read in the transaction before it was deleted."""
    return await _change(session, kind, "deleted", object_id, data, {}, portfolio_id)


async def restored(
    session: AsyncSession, kind: str, object_id: int, data: Data, portfolio_id: int | None = None
) -> str:
    """`data` is the object as retrieve shows it once restored."""
    return await _change(session, kind, "restored", object_id, data, {}, portfolio_id)


async def purged(
    session: AsyncSession, kind: str, object_id: int, portfolio_id: int | None = None
) -> str:
    """Gone for good: the event's data is `{"id": N}` (and the portfolio of a child)."""
    data = {"id": object_id}
    return await _change(session, kind, "purged", object_id, data, {}, portfolio_id)


async def reordered(
    session: AsyncSession, kind: str, ids: list[int], portfolio_id: int | None = None
) -> str:
    """One event and one history entry for a whole reorder: the ids in their new order (the
    history entry's object is the portfolio whose links were reordered, or none)."""
    history = {"ids": (None, ids)}
    return await _change(
        session, kind, "reordered", portfolio_id, {"ids": ids}, history, portfolio_id
    )
