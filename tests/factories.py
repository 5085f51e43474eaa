"""Async helpers that create rows through the app's own sessionmaker (so tests see them)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI

from app.auth import repository
from app.auth.permissions import Permission
from app.auth.secrets import hash_password_sync
from app.models import MediaFile, MediaThumbnail, MediaVariant, User

PASSWORD = "correct horse battery"
# Hashed once: argon2 is deliberately slow, and most tests never log in.
PASSWORD_HASH = hash_password_sync(PASSWORD)
ALL_CODES = [permission.value for permission in Permission]


@dataclass
class Caller:
    user_id: int
    username: str
    key: str
    token_id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.key}"}


_counter = 0


def unique(prefix: str) -> str:
    global _counter
    _counter += 1
    return f"{prefix}{_counter}"


async def create_user(app: FastAPI, **fields: Any) -> User:
    fields.setdefault("username", unique("user"))
    fields.setdefault("password_hash", PASSWORD_HASH)
    async with app.state.sessionmaker() as session:
        user = User(**fields)
        session.add(user)
        await session.commit()
        return user


async def create_token(
    app: FastAPI, user_id: int, *, expires_in: timedelta | None = timedelta(days=1)
) -> tuple[int, str]:
    expires_at = None if expires_in is None else datetime.now(UTC) + expires_in
    async with app.state.sessionmaker() as session:
        token, key = await repository.issue_token(session, user_id, "test", expires_at)
        await session.commit()
        return token.id, key


async def create_caller(app: FastAPI, **fields: Any) -> Caller:
    user = await create_user(app, **fields)
    token_id, key = await create_token(app, user.id)
    return Caller(user.id, user.username, key, token_id)


async def create_superuser(app: FastAPI) -> Caller:
    return await create_caller(app, is_staff=True, is_superuser=True)


async def create_staff(app: FastAPI, *codes: int) -> Caller:
    return await create_caller(app, is_staff=True, permissions=list(codes))


async def create_image(
    app: FastAPI, name: str = "technology", *, variants: bool = True, **fields: Any
) -> MediaFile:
    """An image row with its four thumbnails and, unless told not to, their WebP and AVIF
    variants (no bytes on disk: enough for shapes)."""
    folder = "core_media/2026/01/13"
    stem = unique(name.replace(" ", "_"))
    values: dict[str, Any] = {
        "kind": "image",
        "name": name,
        "path": f"{folder}/{stem}.png",
        "mime_type": "image/png",
        "size": 5123,
        "width": 225,
        "height": 225,
        "mode": "P",
        "placeholder": "HxgCFIggdZkQU5gyZFXf7/393g==",
        **fields,
    }
    async with app.state.sessionmaker() as session:
        media = MediaFile(**values)
        media.thumbnails = [
            MediaThumbnail(
                box=box,
                path=f"{folder}/thumbnails/{stem}_thumbnail_{box}x{box}.png",
                width=box,
                height=box,
                size=box * 10,
            )
            for box in (64, 128, 512, 1080)
        ]
        media.variants = [
            MediaVariant(
                box=box,
                format=extension,
                path=f"{folder}/thumbnails/{stem}_variant_{box}x{box}.{extension}",
                width=box,
                height=box,
                size=box * 5,
            )
            for box in (64, 128, 512, 1080)
            if variants
            for extension in ("avif", "webp")
        ]
        session.add(media)
        await session.commit()
        return media


async def create_document(app: FastAPI, name: str = "report") -> MediaFile:
    async with app.state.sessionmaker() as session:
        media = MediaFile(
            kind="document", name=name, path=f"core_media/2026/01/13/{unique(name)}.pdf",
            mime_type="application/pdf", size=2048,
        )  # fmt: skip
        session.add(media)
        await session.commit()
        return media


async def create_row(app: FastAPI, model: type[Any], **fields: Any) -> Any:
    async with app.state.sessionmaker() as session:
        row = model(**fields)
        session.add(row)
        await session.commit()
        return row


async def create_webhook(app: FastAPI, **fields: Any) -> Any:
    """A webhook endpoint row (every event type, active, a fresh secret unless given)."""
    from app.models import WebhookEndpoint
    from app.webhooks.signing import new_secret

    fields.setdefault("url", "https://example.com/hooks")
    fields.setdefault("secret", new_secret())
    return await create_row(app, WebhookEndpoint, **fields)


async def create_webhook_delivery(app: FastAPI, endpoint_id: int, **fields: Any) -> Any:
    """A delivery to the endpoint of an event of its own (already dispatched), by default
    pending and due now."""
    from app.models import Event, WebhookDelivery

    event_type = fields.setdefault("type", "portfolio.created")
    event = await create_row(
        app, Event, id=unique("evt_test"), type=event_type, body="{}", dispatched=True
    )
    now = datetime.now(UTC)
    fields.setdefault("status", "pending")
    fields.setdefault("next_attempt_at", now if fields["status"] == "pending" else None)
    return await create_row(
        app,
        WebhookDelivery,
        endpoint_id=endpoint_id,
        event_seq=event.seq,
        event_id=event.id,
        **fields,
    )
