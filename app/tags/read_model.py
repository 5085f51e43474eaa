"""A tag as the API shows it: `TagData` inside a portfolio's `tags_data`, `TagOut` at
`/api/tags/`; `tag_payload` builds the same shape in Python."""

from app.common.schemas import DateTimeOut
from app.named.read_model import NamedData, named_payload


class TagData(NamedData):
    """An item of `tags_data` inside a portfolio."""


class TagOut(TagData):
    created_at: DateTimeOut
    updated_at: DateTimeOut


tag_payload = named_payload  # a tag shows nothing beyond its name and image
