"""Liveness and readiness probes for the orchestrator; no authentication."""

from fastapi import Request
from pydantic import BaseModel

from app.common.routing import APIRouter, Public
from app.db import ping
from app.errors import ServiceUnavailable, openapi_responses

router = APIRouter(tags=["operations"], dependencies=[Public])


class Status(BaseModel):
    status: str


@router.get("/healthz", summary="The process is up")
async def check_health() -> Status:
    return Status(status="ok")


@router.get(
    "/readyz",
    summary="The database is reachable",
    responses=openapi_responses([ServiceUnavailable]),
)
async def check_readiness(request: Request) -> Status:
    try:
        await ping(request.app.state.engine)
    except Exception as exc:
        raise ServiceUnavailable() from exc
    return Status(status="ok")
