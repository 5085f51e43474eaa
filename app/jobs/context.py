"""What a job handler may need besides its session: the settings, the media storage and the image
threads, made the first time a job asks for them and closed with the worker."""

from app.common.workers import BoundedPool
from app.media.storage import Backend, Storage
from app.settings import Settings


class JobContext:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._storages: dict[Backend, Storage] = {}
        self._images: BoundedPool | None = None

    def storage(self, backend: Backend) -> Storage:
        """The backend a file's row names (during a storage migration, not always the
        configured one)."""
        if backend not in self._storages:
            from app.media.storage import create_storage

            self._storages[backend] = create_storage(self.settings, backend)
        return self._storages[backend]

    @property
    def images(self) -> BoundedPool:
        if self._images is None:
            from app.media.service import image_pool

            self._images = image_pool(self.settings)
        return self._images

    async def aclose(self) -> None:
        if self._images is not None:
            self._images.shutdown()
        for storage in self._storages.values():
            await storage.aclose()
