"""Tag SQL: the named-resource queries over `portfolio_tag`."""

from app.models import Tag
from app.named.repository import NamedRepository


class TagRepository(NamedRepository[Tag]):
    model = Tag
    columns = (Tag.id, Tag.name, Tag.image_id, Tag.created_at, Tag.updated_at)
