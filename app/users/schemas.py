"""`/api/users/` list requests (the account and token bodies are `app.auth.schemas`)."""

from dataclasses import dataclass

from app.common.filters import CommonFilters
from app.common.ordering import Ordering

# The list's `ordering` names (each a column of the same name).
ORDERING_FIELDS = ("id", "username", "created_at", "updated_at", "last_login")


@dataclass(frozen=True)
class UserQuery:
    """What a list request asks for beyond its page, parsed once by the router."""

    ordering: Ordering
    filters: CommonFilters
    search: str | None
    is_active: bool | None
    is_staff: bool | None
    is_superuser: bool | None
