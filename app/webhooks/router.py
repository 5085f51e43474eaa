"""`/api/webhooks/`: endpoints that receive change events, their secrets and deliveries."""

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BeforeValidator

from app.auth.dependencies import Principal, require
from app.auth.permissions import Permission
from app.common.crud import page_response
from app.common.pagination import Page, PageDep
from app.common.query import PathId, blank_is_absent
from app.common.routing import APIRouter
from app.db import SessionDep
from app.webhooks import service
from app.webhooks.read_model import (
    DeliveryOut,
    DeliveryStatus,
    SecretOut,
    WebhookCreatedOut,
    WebhookOut,
    created_payload,
    delivery_payload,
    webhook_payload,
)
from app.webhooks.schemas import WebhookIn, WebhookPatch

router = APIRouter(tags=["webhooks"])

WebhookCreate = Annotated[Principal, Depends(require(Permission.WEBHOOK_CREATE))]
WebhookView = Annotated[Principal, Depends(require(Permission.WEBHOOK_VIEW))]
WebhookUpdate = Annotated[Principal, Depends(require(Permission.WEBHOOK_UPDATE))]
WebhookDelete = Annotated[Principal, Depends(require(Permission.WEBHOOK_DELETE))]

URL_RULE = (
    "`url` must be http(s). In production, unless `WEBHOOK_ALLOW_PRIVATE=true`, its host must "
    "resolve to public addresses only (no private, loopback, link-local or metadata ranges): "
    "400 on `url` otherwise."
)


@router.get("/api/webhooks/", response_model=Page[WebhookOut], summary="List webhook endpoints")
async def list_webhooks(
    request: Request, session: SessionDep, _caller: WebhookView, page: PageDep
) -> JSONResponse:
    count, results = await service.list_page(session, page)
    return page_response(request, page, count, results)


@router.post(
    "/api/webhooks/",
    status_code=201,
    response_model=WebhookCreatedOut,
    summary="Create a webhook endpoint; its secret is shown in this response only",
    description=URL_RULE,
)
async def create_webhook(
    request: Request, session: SessionDep, _caller: WebhookCreate, payload: WebhookIn
) -> JSONResponse:
    settings = request.app.state.settings
    endpoint = await service.create(session, settings, payload.model_dump())
    return JSONResponse(created_payload(endpoint), 201)


@router.get("/api/webhooks/{id}", response_model=WebhookOut, summary="Retrieve a webhook endpoint")
async def get_webhook(session: SessionDep, _caller: WebhookView, id: PathId) -> JSONResponse:
    return JSONResponse(webhook_payload(await service.get(session, id)))


@router.patch(
    "/api/webhooks/{id}",
    response_model=WebhookOut,
    summary="Update a webhook endpoint: only the fields given change",
    description=URL_RULE,
)
async def update_webhook(
    request: Request, session: SessionDep, _caller: WebhookUpdate, id: PathId, payload: WebhookPatch
) -> JSONResponse:
    settings = request.app.state.settings
    endpoint = await service.update(session, settings, id, payload.given())
    return JSONResponse(webhook_payload(endpoint))


@router.put(
    "/api/webhooks/{id}",
    response_model=WebhookOut,
    summary="Replace a webhook endpoint",
    description=URL_RULE,
)
async def replace_webhook(
    request: Request, session: SessionDep, _caller: WebhookUpdate, id: PathId, payload: WebhookIn
) -> JSONResponse:
    settings = request.app.state.settings
    endpoint = await service.update(session, settings, id, payload.given())
    return JSONResponse(webhook_payload(endpoint))


@router.delete(
    "/api/webhooks/{id}",
    status_code=204,
    summary="Delete a webhook endpoint and its deliveries",
)
async def delete_webhook(session: SessionDep, _caller: WebhookDelete, id: PathId) -> None:
    await service.delete(session, id)


@router.post(
    "/api/webhooks/{id}/rotate-secret",
    response_model=SecretOut,
    summary="Replace the signing secret; the old one keeps signing beside it for a while",
    description="The new secret is shown in this response only. Until the overlap ends "
    "(24 hours by default), deliveries carry a signature with each secret.",
)
async def rotate_webhook_secret(
    request: Request, session: SessionDep, _caller: WebhookUpdate, id: PathId
) -> JSONResponse:
    secret = await service.rotate_secret(session, request.app.state.settings, id)
    return JSONResponse({"secret": secret})


@router.get(
    "/api/webhooks/{webhook_id}/deliveries/",
    response_model=Page[DeliveryOut],
    summary="List an endpoint's deliveries, newest first",
)
async def list_webhook_deliveries(
    request: Request,
    session: SessionDep,
    _caller: WebhookView,
    webhook_id: PathId,
    page: PageDep,
    status: Annotated[
        DeliveryStatus | None,
        BeforeValidator(blank_is_absent),
        Query(description="Only deliveries in this state."),
    ] = None,
) -> JSONResponse:
    wanted = None if status is None else status.value
    count, results = await service.delivery_page(session, webhook_id, wanted, page)
    return page_response(request, page, count, results)


@router.post(
    "/api/webhooks/{webhook_id}/deliveries/{id}/retry",
    status_code=202,
    response_model=DeliveryOut,
    summary="Send a delivery again, now",
)
async def retry_webhook_delivery(
    session: SessionDep, _caller: WebhookUpdate, webhook_id: PathId, id: PathId
) -> JSONResponse:
    delivery = await service.retry(session, webhook_id, id)
    return JSONResponse(delivery_payload(delivery), 202)


@router.post(
    "/api/webhooks/{id}/ping",
    status_code=202,
    response_model=DeliveryOut,
    summary="Send a `webhook.ping` event to this endpoint",
)
async def ping_webhook(session: SessionDep, _caller: WebhookUpdate, id: PathId) -> JSONResponse:
    delivery = await service.ping(session, id)
    return JSONResponse(delivery_payload(delivery), 202)
