"""The five kinds of route, and the registry that lets each route declare exactly one.

The dependencies that check them live in `app.auth.dependencies`; the routing (which refuses a
route declaring none) and the docs only need to know the kinds, so they live here, in `common`.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeVar


class PermissionCode(Protocol):
    """A permission code (`app.auth.permissions.Permission`): its number and its label."""

    @property
    def value(self) -> int: ...

    @property
    def label(self) -> str: ...


class AccessKind(StrEnum):
    PUBLIC = "public"
    ANY_USER = "any active user"
    STAFF = "any staff user"
    PERMISSION = "permission code"
    SUPERUSER = "superuser only"


@dataclass(frozen=True)
class AccessRule:
    kind: AccessKind
    permission: PermissionCode | None = None

    def describe(self) -> str:
        if self.kind is AccessKind.PUBLIC:
            return "**Access:** public, no authentication."
        if self.kind is AccessKind.ANY_USER:
            return "**Access:** any active user (`Authorization: Token <key>`)."
        if self.kind is AccessKind.SUPERUSER:
            return "**Access:** superusers only."
        if self.kind is AccessKind.STAFF:
            return (
                "**Access:** any active staff user or superuser; what it shows depends on the "
                "caller's permission codes."
            )
        assert self.permission is not None
        return (
            f"**Access:** staff holding permission code **{self.permission.value}** "
            f"({self.permission.label}), or a superuser."
        )


_RULES: dict[Callable[..., Any], AccessRule] = {}
D = TypeVar("D", bound=Callable[..., Any])


def declares_access(rule: AccessRule) -> Callable[[D], D]:
    def register(dependency: D) -> D:
        _RULES[dependency] = rule
        return dependency

    return register


def access_rules(dependencies: Iterable[Callable[..., Any] | None]) -> list[AccessRule]:
    return [_RULES[call] for call in dependencies if call is not None and call in _RULES]
