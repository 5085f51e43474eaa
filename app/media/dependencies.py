"""The storage backend and the URL builder, as request dependencies."""

from typing import Annotated

from fastapi import Depends, Request

from app.common.urls import public_origin
from app.common.workers import BoundedPool
from app.media.storage import Storage


async def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


StorageDep = Annotated[Storage, Depends(get_storage)]


async def get_image_pool(request: Request) -> BoundedPool:
    images: BoundedPool = request.app.state.image_pool
    return images


ImagePoolDep = Annotated[BoundedPool, Depends(get_image_pool)]


class MediaUrls:
    """Builds the absolute URLs of stored files for one request."""

    def __init__(self, storage: Storage, origin: str) -> None:
        self.storage = storage
        self.origin = origin
        # Set when every URL is this prefix and the percent-encoded key (SQL can build those).
        self.prefix = storage.url_prefix(origin)

    def __call__(self, key: str) -> str:
        return self.storage.url(key, self.origin)


async def url_builder(request: Request) -> MediaUrls:
    return MediaUrls(request.app.state.storage, public_origin(request))


UrlForDep = Annotated[MediaUrls, Depends(url_builder)]
