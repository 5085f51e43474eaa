"""Permission codes: the only place their numbers appear."""

from enum import IntEnum


class Permission(IntEnum):
    PORTFOLIO_CREATE = 4201
    PORTFOLIO_VIEW = 4202
    PORTFOLIO_UPDATE = 4203
    PORTFOLIO_DELETE = 4204
    EMPLOYER_CREATE = 4211
    EMPLOYER_VIEW = 4212
    EMPLOYER_UPDATE = 4213
    EMPLOYER_DELETE = 4214
    TAG_CREATE = 4221
    TAG_VIEW = 4222
    TAG_UPDATE = 4223
    TAG_DELETE = 4224
    META_CREATE = 4231
    META_VIEW = 4232
    META_UPDATE = 4233
    META_DELETE = 4234
    LINK_CREATE = 4241
    LINK_VIEW = 4242
    LINK_UPDATE = 4243
    LINK_DELETE = 4244
    MEDIA_CREATE = 1101
    MEDIA_VIEW = 1102
    MEDIA_UPDATE = 1103
    MEDIA_DELETE = 1104
    WEBHOOK_CREATE = 4501
    WEBHOOK_VIEW = 4502
    WEBHOOK_UPDATE = 4503
    WEBHOOK_DELETE = 4504

    @property
    def label(self) -> str:
        """`portfolio link: create`."""
        resource, action = self.name.lower().rsplit("_", 1)
        resource = {"link": "portfolio link", "meta": "portfolio meta", "media": "media file"}.get(
            resource, resource
        )
        return f"{resource}: {action}"
