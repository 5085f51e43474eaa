"""What the read-model tests of the named resources (employers, tags) share: the Python
builder's output, as a portfolio embeds it and as the resource's own endpoints answer, checked
against the Pydantic models (OpenAPI) and the seed's keys in the seed's order."""

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from app.media.dependencies import MediaUrls
from app.media.repository import load_media
from app.named.read_model import Payload
from app.named.service import NamedService
from tests.shapes import assert_same_shape


async def assert_builder_matches(
    app: FastAPI,
    service: NamedService[Any],
    builder: Payload,
    models: tuple[type[BaseModel], type[BaseModel]],
    seed: dict[str, Any],
    rows: list[Any],
) -> list[dict[str, Any]]:
    """`models`: the embedded shape's and the own endpoints'. Returns the embedded payloads."""
    data_model, out_model = models
    urls = MediaUrls(app.state.storage, "http://testserver")
    async with app.state.read_sessionmaker() as session:
        media = await load_media(session, [row.image_id for row in rows], urls)
        embedded = [builder(row, media) for row in rows]
        own = await service.payloads(session, rows, urls)
    for data, out in zip(embedded, own, strict=True):
        assert list(data) == list(seed)
        assert list(out) == [*seed, "created_at", "updated_at"]
        assert data_model.model_validate(data).model_dump(mode="json") == data
        assert out_model.model_validate(out).model_dump(mode="json") == out
        assert_same_shape(data, seed)
    return embedded
