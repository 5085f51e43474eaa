"""What a list request asks for beyond its page, parsed once by the router and applied to a
statement by the repository: the common filters, the search term, `has_<field>` presence filters
and boolean flags, and the ordering."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, FromClause, String, Text

from app.common.filters import CommonFilters, apply_common_filters, presence_condition
from app.common.ordering import Ordering
from app.common.search import apply_search
from app.common.sql import S


@dataclass(frozen=True)
class ListQuery:
    filters: CommonFilters
    ordering: Ordering
    search: str | None = None
    # `has_<field>=`, by column name: present (true) or absent (false); blank text is absent.
    present: Mapping[str, bool | None] = field(default_factory=dict)
    # `<field>=true|false`, by the name of a boolean column.
    flags: Mapping[str, bool | None] = field(default_factory=dict)

    @property
    def narrows(self) -> bool:
        """Whether any filter, search, presence or flag condition is asked for."""
        conditions = [*self.present.values(), *self.flags.values()]
        return (
            self.filters.any
            or self.search is not None
            or any(wanted is not None for wanted in conditions)
        )


def apply_list_query(statement: S, query: ListQuery, table: FromClause) -> S:
    """`query`'s conditions on `table`, whose `id`, `created_at`, `updated_at` and
    `search_text` columns every listed resource has; the ordering is the caller's."""
    columns = table.c
    statement = apply_common_filters(
        statement, query.filters, columns.id, columns.created_at, columns.updated_at
    )
    statement = apply_search(statement, query.search, columns.search_text, columns.id)
    for name, present in query.present.items():
        if present is not None:
            column = columns[name]
            statement = statement.where(
                presence_condition(column, present, blank_is_absent=_is_text(column))
            )
    for name, value in query.flags.items():
        if value is not None:
            statement = statement.where(columns[name].is_(value))
    return statement


def _is_text(column: ColumnElement[Any]) -> bool:
    return isinstance(column.type, String | Text)
