"""The kinds of object that history and the trash show, and the codes that let a caller see
(or delete) each: a staff user sees the kinds whose view code they hold, a superuser every kind."""

from enum import StrEnum
from typing import Annotated

from fastapi import Query
from pydantic import BeforeValidator

from app.auth.dependencies import Principal
from app.auth.permissions import Permission
from app.common.query import blank_is_absent
from app.errors import PermissionDenied, ValidationFailed


class ObjectKind(StrEnum):
    PORTFOLIO = "portfolio"
    LINK = "link"
    META = "meta"
    EMPLOYER = "employer"
    TAG = "tag"
    MEDIA = "media"


VIEW_CODES: dict[str, Permission] = {
    ObjectKind.PORTFOLIO: Permission.PORTFOLIO_VIEW,
    ObjectKind.LINK: Permission.LINK_VIEW,
    ObjectKind.META: Permission.META_VIEW,
    ObjectKind.EMPLOYER: Permission.EMPLOYER_VIEW,
    ObjectKind.TAG: Permission.TAG_VIEW,
    ObjectKind.MEDIA: Permission.MEDIA_VIEW,
}
DELETE_CODES: dict[str, Permission] = {
    ObjectKind.PORTFOLIO: Permission.PORTFOLIO_DELETE,
    ObjectKind.LINK: Permission.LINK_DELETE,
    ObjectKind.META: Permission.META_DELETE,
    ObjectKind.EMPLOYER: Permission.EMPLOYER_DELETE,
    ObjectKind.TAG: Permission.TAG_DELETE,
    ObjectKind.MEDIA: Permission.MEDIA_DELETE,
}

# The `kind` filter of a list: an unknown value is django-filter's 400 on `kind`.
KindQuery = Annotated[
    ObjectKind | None,
    BeforeValidator(blank_is_absent),
    Query(description="Only this kind of object (403 for a kind whose view code you lack)."),
]


def viewable_kinds(principal: Principal, kind: str | None = None) -> list[str]:
    """The kinds whose view code the caller holds (a superuser: all), in `ObjectKind` order; with
    `kind` given, `[kind]` when the caller may view it, else 403 (400 for an unknown kind)."""
    if kind is not None:
        if kind not in VIEW_CODES:
            raise ValidationFailed.field(
                "kind", f"Select a valid choice. {kind} is not one of the available choices."
            )
        if not principal.may(VIEW_CODES[kind]):
            raise PermissionDenied()
        return [str(kind)]
    return [str(name) for name, code in VIEW_CODES.items() if principal.may(code)]
