"""Request and response bodies of `/api/auth/` and `/api/users/`."""

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StringConstraints
from pydantic_core import PydanticCustomError

from app.auth.permissions import Permission
from app.common.schemas import (
    Boolean,
    DateTimeOut,
    NotABoolean,
    RequestSchema,
    omittable,
)

PASSWORD_MIN_LENGTH = 8  # Django's default
_USERNAME = re.compile(r"^[\w.@+-]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _username(value: str) -> str:
    if not _USERNAME.fullmatch(value):
        raise PydanticCustomError(
            "invalid_username",
            "Enter a valid username. This value may contain only letters, numbers, "
            "and @/./+/-/_ characters.",
        )
    return value


def _email(value: str) -> str:
    if value and not _EMAIL.fullmatch(value):
        raise PydanticCustomError("invalid_email", "Enter a valid email address.")
    return value.lower()


def _permission_codes(values: list[int]) -> list[int]:
    known = {permission.value for permission in Permission}
    for value in values:
        if value not in known:
            raise PydanticCustomError(
                "invalid_choice", '"{value}" is not a valid choice.', {"value": value}
            )
    return sorted(set(values))


def _password(value: str) -> str:
    if len(value) < PASSWORD_MIN_LENGTH:
        raise PydanticCustomError(
            "password_too_short",
            "This password is too short. It must contain at least {minimum} characters.",
            {"minimum": PASSWORD_MIN_LENGTH},
        )
    return value


Username = Annotated[str, Field(min_length=1, max_length=150), AfterValidator(_username)]
Email = Annotated[str, Field(max_length=254), AfterValidator(_email)]
# Passwords are taken exactly as typed: never trimmed.
RawPassword = Annotated[str, StringConstraints(strip_whitespace=False), Field(max_length=4096)]
# The checks run after parsing, for Django's messages; OpenAPI states them all the same.
NewPassword = Annotated[
    RawPassword,
    AfterValidator(_password),
    Field(json_schema_extra={"minLength": PASSWORD_MIN_LENGTH}),
]
PermissionCodes = Annotated[
    list[int],
    AfterValidator(_permission_codes),
    Field(
        json_schema_extra={
            "items": {"type": "integer", "enum": sorted(code.value for code in Permission)}
        }
    ),
]


class LoginIn(RequestSchema):
    username: str = Field(min_length=1, max_length=150)
    password: Annotated[RawPassword, Field(min_length=1)]


class LoginOut(BaseModel):
    token: str


class PasswordChangeIn(RequestSchema):
    old_password: Annotated[RawPassword, Field(min_length=1)]
    new_password: NewPassword


class UserOut(BaseModel):
    id: int
    username: str
    email: str
    is_active: bool
    is_staff: bool
    is_superuser: bool
    permissions: list[int]
    last_login: DateTimeOut | None
    created_at: DateTimeOut
    updated_at: DateTimeOut


class UserCreate(RequestSchema):
    username: Username
    email: Email = ""
    password: NewPassword
    is_active: Boolean = True
    is_staff: Boolean = False
    is_superuser: Boolean = False
    permissions: PermissionCodes = Field(default_factory=list)


class UserReplace(RequestSchema):
    """PUT: required fields as on create; the password stays unless one is given."""

    username: Username
    email: Email = ""
    password: NewPassword | None = None
    is_active: Boolean = True
    is_staff: Boolean = False
    is_superuser: Boolean = False
    permissions: PermissionCodes = Field(default_factory=list)


class UserPatch(RequestSchema):
    username: Username = omittable()
    email: Email = omittable()
    password: NewPassword = omittable()
    is_active: Boolean = omittable()
    is_staff: Boolean = omittable()
    is_superuser: Boolean = omittable()
    permissions: PermissionCodes = omittable()


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: DateTimeOut
    last_used_at: DateTimeOut | None
    expires_at: DateTimeOut | None


class IssuedTokenOut(TokenOut):
    key: str = Field(description="The API key. Shown once: only its digest is stored.")


class TokenIssue(RequestSchema):
    name: str = Field(default="", max_length=255)
    expires_days: Annotated[int, Field(ge=1, le=36500), NotABoolean] | None = Field(
        default=None,
        description="Days until the token expires; `null` for a token that never expires. "
        "Absent: the login lifetime (30 days by default).",
    )
