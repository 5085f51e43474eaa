"""On SQLite exactly one process consumes jobs: the one holding an exclusive lock on a file
beside the database (released by the kernel when the process dies, however it dies)."""

import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import make_url


class ConsumerLock:
    def __init__(self, database_url: str) -> None:
        database = make_url(database_url).database or "portfolio.sqlite3"
        self.path = Path(f"{database}.worker-lock")
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the lock
            self._fd = None
