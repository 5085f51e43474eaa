"""A webhook endpoint and its deliveries as the API shows them: the Pydantic models (OpenAPI)
beside the Python builders, which tests/webhooks/test_api.py holds equal.

There is no SQL JSON form: an operator has a handful of endpoints, and a page of deliveries is
plain columns, so serialising here costs nothing worth a second form. The secret never appears
in these shapes; only the create and rotate answers carry it.
"""

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from app.common.schemas import DateTimeOut, drf_datetime


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    is_active: bool
    description: str
    created_at: DateTimeOut
    updated_at: DateTimeOut


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(
        description="The signing secret (`whsec_` + base64 of 24 bytes), shown in this "
        "response only."
    )


class SecretOut(BaseModel):
    secret: str = Field(description="The new signing secret, shown in this response only.")


class DeliveryOut(BaseModel):
    id: int
    event_id: str = Field(description="The event's id, sent as `webhook-id` on every attempt.")
    type: str
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: DateTimeOut | None = Field(description="Set while the delivery is pending.")
    created_at: DateTimeOut


def webhook_payload(row: Any) -> dict[str, Any]:
    """The endpoint as the API shows it (never its secret); also the `data` of its
    `webhook.deactivated` event."""
    return {
        "id": row.id,
        "url": row.url,
        "events": list(row.events),
        "is_active": row.is_active,
        "description": row.description,
        "created_at": drf_datetime(row.created_at),
        "updated_at": drf_datetime(row.updated_at),
    }


def created_payload(row: Any) -> dict[str, Any]:
    """The create answer: the endpoint and, this once, its secret."""
    return {**webhook_payload(row), "secret": row.secret}


def delivery_payload(row: Any) -> dict[str, Any]:
    pending = row.status == DeliveryStatus.PENDING
    return {
        "id": row.id,
        "event_id": row.event_id,
        "type": row.type,
        "status": row.status,
        "attempts": row.attempts,
        "last_status_code": row.last_status_code,
        "last_error": row.last_error,
        "next_attempt_at": (
            drf_datetime(row.next_attempt_at) if pending and row.next_attempt_at else None
        ),
        "created_at": drf_datetime(row.created_at),
    }
