"""The type of what builds a stored file's absolute URL from its key (`MediaUrls` per request);
the file objects themselves are built in `app.media.read_model`."""

from collections.abc import Callable

UrlFor = Callable[[str], str]
