"""`/api/webhooks/`: endpoints that receive change events, their secrets and deliveries."""

from app.common.routing import APIRouter

router = APIRouter(tags=["webhooks"])
