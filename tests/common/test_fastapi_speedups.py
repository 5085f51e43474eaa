"""`app.common.fastapi_speedups` replaces eight FastAPI internals by memoised copies, and gives
absent parameters their defaults before FastAPI's own reading of parameters: they must
still exist with the signatures it wraps, give the answers the originals give, and be in force
in the app (a FastAPI upgrade that renames them fails here, not silently)."""

import inspect
from typing import Annotated

import pytest
from fastapi import Query
from fastapi.dependencies import utils
from starlette.datastructures import Headers, QueryParams

from app.common import fastapi_speedups
from app.common.routing import walk


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


def test_dependency_answers_are_the_originals(app):
    route = next(r for r in app.routes if getattr(r, "name", "") == "update_portfolio")
    dependants = [route.dependant, *walk(route.dependant)]
    assert len(dependants) > 3  # the access check, the session, its caller, the background
    for name in fastapi_speedups.BY_IDENTITY:
        assert getattr(getattr(utils, name), fastapi_speedups._APPLIED, False), name
    original_key = inspect.unwrap(utils._get_cache_key)
    for dependant in dependants:
        for _ in range(2):  # computed, then remembered
            assert utils._get_cache_key(dependant=dependant) == original_key(dependant=dependant)
        for name in ("_is_gen_callable", "_is_async_gen_callable", "_is_coroutine_callable"):
            memoised = getattr(utils, name)
            assert memoised(dependant.call) == inspect.unwrap(memoised)(dependant.call), name
    generators = [d for d in dependants if utils._is_async_gen_callable(d.call)]
    assert generators  # the writing session is an async generator: the answers differ


@pytest.mark.parametrize(
    "query",
    [
        "",
        "limit=10",
        "limit=10&offset=20&ordering=-title&search=atlas",
        "tag=1&tag=2&employer=3&is_active=true",
        "limit=-1&tag=x&created_from=never&id_min=1",  # errors, in FastAPI's order
        "tag=&search=&limit=",
        "unknown=1",
    ],
)
def test_absent_parameters_get_the_defaults_fastapi_gives(app, query):
    route = next(r for r in app.routes if getattr(r, "name", "") == "list_portfolios")
    original = inspect.unwrap(utils.request_params_to_args)
    for dependant in (route.dependant, *route.dependant.dependencies):
        received = QueryParams(query)
        assert utils.request_params_to_args(dependant.query_params, received) == original(
            dependant.query_params, received
        )
    headers = Headers({"if-match": '"1"'})
    patch = next(r for r in app.routes if getattr(r, "name", "") == "update_portfolio")
    for received in (headers, Headers({})):
        fields = patch.dependant.header_params
        assert utils.request_params_to_args(fields, received) == original(fields, received)


def test_an_absent_default_is_a_copy(app):
    route = next(r for r in app.routes if getattr(r, "name", "") == "list_portfolios")
    first, _ = utils.request_params_to_args(route.dependant.query_params, QueryParams(""))
    again, _ = utils.request_params_to_args(route.dependant.query_params, QueryParams(""))
    assert first["tag"] == []
    assert first["tag"] is not again["tag"]


def _query_fields(dependant):
    yield from dependant.query_params
    for dependency in dependant.dependencies:
        yield from _query_fields(dependency)
