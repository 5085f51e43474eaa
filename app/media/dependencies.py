"""The storage backend and the URL builder, as request dependencies."""

from typing import Annotated

from fastapi import Depends, Request

from app.media.serialize import UrlFor
from app.media.storage import Storage


def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


StorageDep = Annotated[Storage, Depends(get_storage)]


def url_builder(request: Request, storage: StorageDep) -> UrlFor:
    return lambda key: storage.url(key, request)


UrlForDep = Annotated[UrlFor, Depends(url_builder)]
