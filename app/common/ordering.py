"""DRF OrderingFilter: allowed fields only, unknown ones dropped, a stable `-id` tiebreak."""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import ColumnElement, SQLColumnExpression

from app.common.query import TextQuery


@dataclass(frozen=True)
class Ordering:
    fields: tuple[str, ...]  # e.g. ("order", "-created_at", "-id")

    def clauses(self, columns: Mapping[str, SQLColumnExpression[Any]]) -> list[ColumnElement[Any]]:
        return [
            columns[name.lstrip("-")].desc() if name.startswith("-") else columns[name].asc()
            for name in self.fields
        ]


def parse_ordering(raw: str | None, allowed: Sequence[str], default: Sequence[str]) -> Ordering:
    requested = [part.strip() for part in (raw or "").split(",") if part.strip()]
    chosen = [name for name in requested if name.lstrip("-") in allowed]
    fields = list(dict.fromkeys(chosen)) or list(default)
    if not any(name.lstrip("-") == "id" for name in fields):
        fields.append("-id")
    return Ordering(tuple(fields))


def ordering_dependency(
    allowed: Sequence[str], default: Sequence[str]
) -> Callable[..., Awaitable[Ordering]]:
    description = (
        f"Comma-separated fields, `-` for descending. Allowed: {', '.join(allowed)}. "
        f"Unknown fields are ignored. Default: {','.join(default)}."
    )

    async def ordering(
        ordering: Annotated[TextQuery, Query(description=description)] = None,
    ) -> Ordering:
        return parse_ordering(ordering, allowed, default)

    return ordering
