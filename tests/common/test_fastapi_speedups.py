"""`app.common.fastapi_speedups` replaces four FastAPI internals by memoised copies: they must
still exist with the signatures it wraps, give the answers the originals give, and be in force
in the app (a FastAPI upgrade that renames them fails here, not silently)."""

import inspect
from typing import Annotated

from fastapi import Query
from fastapi.dependencies import utils

from app.common import fastapi_speedups


def test_the_replaced_internals_exist_with_the_signatures_wrapped(app):
    for name, first in (
        *((name, "field") for name in fastapi_speedups.BY_FIELD),
        *((name, "annotation") for name in fastapi_speedups.BY_ANNOTATION),
    ):
        function = getattr(utils, name)
        assert getattr(function, fastapi_speedups._APPLIED, False), name  # the app applied it
        original = inspect.unwrap(function)
        assert next(iter(inspect.signature(original).parameters)) == first, name


def test_memoised_answers_are_the_originals(app):
    sequence = inspect.unwrap(utils.field_annotation_is_sequence)
    for annotation in (list[int], int, Annotated[list[int], Query()], str | None, tuple[int]):
        assert utils.field_annotation_is_sequence(annotation) == sequence(annotation)
        assert utils.field_annotation_is_sequence(annotation) == sequence(annotation)  # cached
    route = next(r for r in app.routes if getattr(r, "name", "") == "list_portfolios")
    fields = list(_query_fields(route.dependant))
    assert len(fields) > 10  # search, ordering, paging, the filters
    for field in fields:
        for name in ("_get_param_model", "_get_param_aliases", "_is_json_field"):
            memoised = getattr(utils, name)
            assert memoised(field) == inspect.unwrap(memoised)(field), name


def _query_fields(dependant):
    yield from dependant.query_params
    for dependency in dependant.dependencies:
        yield from _query_fields(dependency)
