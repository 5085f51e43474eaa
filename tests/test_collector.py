"""The garbage collector's settings for a serving process (`app.main`)."""

import asyncio
import gc

import httpx
from fastapi import FastAPI

from app.main import YOUNG_COLLECTION_THRESHOLD, keep_collector_off_the_request_path


async def test_a_started_app_freezes_what_it_built_and_raises_the_young_threshold(
    app: FastAPI,
) -> None:
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == YOUNG_COLLECTION_THRESHOLD


async def test_concurrent_requests_run_no_collection(client: httpx.AsyncClient) -> None:
    """What the threshold is for: sixteen requests in flight at a time, five times over, set off
    no collection (at Python's default threshold they set off four)."""
    keep_collector_off_the_request_path()  # a fresh count, as a worker has after startup
    collections: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(count)
    try:
        for _ in range(5):
            responses = await asyncio.gather(*(client.get("/healthz") for _ in range(16)))
            assert {response.status_code for response in responses} == {200}
    finally:
        gc.callbacks.remove(count)
    assert collections == []
