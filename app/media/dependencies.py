"""The storage backend and the URL builder, as request dependencies."""

from typing import Annotated

from fastapi import Depends, Request

from app.common.urls import public_origin
from app.media.serialize import UrlFor
from app.media.storage import Storage


async def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


StorageDep = Annotated[Storage, Depends(get_storage)]


async def url_builder(request: Request, storage: StorageDep) -> UrlFor:
    origin = public_origin(request)
    return lambda key: storage.url(key, origin)


UrlForDep = Annotated[UrlFor, Depends(url_builder)]
