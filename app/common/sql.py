"""Typing helpers for SQLAlchemy 2.1, whose Select is typed by its row's column types."""

from typing import Any, TypeVar

from sqlalchemy import Select

AnySelect = Select[*tuple[Any, ...]]
S = TypeVar("S", bound=AnySelect)
