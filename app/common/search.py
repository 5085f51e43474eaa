"""DRF-style search: terms split on whitespace and commas, quoted phrases kept whole.

Every term must match; a term matches when it is a substring of one of the resource's search
fields (compared in the normalised `search_text` column) or, when numeric, equals the id.
"""

import re
from collections.abc import Iterable
from typing import Annotated

from fastapi import Query
from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError
from sqlalchemy import ColumnElement, SQLColumnExpression, and_, or_

from app.common.query import INT64_MAX, parse_text
from app.common.sql import S
from app.common.text import normalize_for_search

# Joins the fields in `search_text`; no term can contain it, so no match spans two fields.
FIELD_SEPARATOR = "\x1f"
_TOKEN = re.compile(r'"([^"]*)"|\'([^\']*)\'|([^\s,"\']+)')


def split_terms(search: str) -> list[str]:
    terms = []
    for quoted_double, quoted_single, bare in _TOKEN.findall(search):
        term = (quoted_double or quoted_single or bare).replace(FIELD_SEPARATOR, "").strip()
        if term:
            terms.append(term)
    return list(dict.fromkeys(terms))


def search_document(values: Iterable[object]) -> str:
    """The value stored in a resource's `search_text` column."""
    return FIELD_SEPARATOR.join(normalize_for_search(str(v)) for v in values if v is not None)


def term_condition(
    term: str, search_text: SQLColumnExpression[str], id_column: SQLColumnExpression[int]
) -> ColumnElement[bool]:
    normalized = normalize_for_search(term)
    condition = search_text.contains(normalized, autoescape=True)
    if normalized.isascii() and normalized.isdigit() and int(normalized) <= INT64_MAX:
        condition = or_(condition, id_column == int(normalized))
    return condition


def apply_search(
    statement: S,
    search: str | None,
    search_text: SQLColumnExpression[str],
    id_column: SQLColumnExpression[int],
) -> S:
    terms = split_terms(search or "")
    if not terms:
        return statement
    return statement.where(and_(*(term_condition(t, search_text, id_column) for t in terms)))


def search_description(fields: Iterable[str]) -> str:
    return (
        "Terms separated by spaces or commas (quote a phrase to keep it whole); every term "
        f"must match one of: {', '.join(fields)}."
    )


# Every term is a condition with its own bind parameters: a bound on the text bounds the SQL
# (SQLite nests AND chains no deeper than 1000, PostgreSQL takes 32767 parameters).
MAX_SEARCH_LENGTH = 500


def parse_search(value: object) -> str | None:
    text = parse_text(value)
    if text is not None and len(text) > MAX_SEARCH_LENGTH:
        raise PydanticCustomError(
            "string_too_long",
            "Ensure this field has no more than {max_length} characters.",
            {"max_length": MAX_SEARCH_LENGTH},
        )
    return text


SearchQuery = Annotated[
    str | None,
    BeforeValidator(parse_search),
    WithJsonSchema({"type": "string", "maxLength": MAX_SEARCH_LENGTH}),
    Query(),
]
