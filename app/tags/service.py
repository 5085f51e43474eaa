"""Tag rules: those of every named resource (unique name, image an image)."""

from app.models import Tag
from app.named.service import NamedService
from app.tags.read_model import tag_payload
from app.tags.repository import TagRepository

tags: NamedService[Tag] = NamedService("tag", TagRepository(), tag_payload)
