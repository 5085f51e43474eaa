"""Answers FastAPI works out again on every request, worked out once.

FastAPI 0.165 reads each query, header and path parameter of each dependency on every request
through `request_params_to_args`, which asks, per parameter, whether its annotation is a model,
what its aliases are, whether it is a JSON field and whether its annotation is a sequence:
introspection of `typing` objects that never change after start-up. A list of links (twenty
parameters over six dependencies) spent about a quarter of its in-process time there
(bench/request_path.py, under cProfile). Each answer depends on the parameter alone, so it is
kept per parameter (by identity: FastAPI's fields live as long as the app) or per annotation.

Most of those parameters are absent from a given request (a list is asked for with `limit`,
not with its fifteen filters), and FastAPI then gives each its default after extracting and
checking nothing: `request_params_to_args` here gives those their default at once, exactly as
FastAPI does (a copy of it, unvalidated unless the parameter asks), and hands the others on.

Solving the dependencies of a request, FastAPI also works out again, for each dependency, its
cache key (which walks its sub-dependencies for OAuth scopes) and whether its function is a
generator or a coroutine (an `lru_cache` lookup behind a wrapper object made per question).
Those too are answers about objects that never change once the routes are built: they are kept
per dependency (by identity) and per function.

Applied once, on import of `app.main`; `tests/common/test_fastapi_speedups.py` checks that the
functions replaced still exist with the same signatures and give the same answers.
"""

import functools
from collections.abc import Callable, Mapping, Sequence
from copy import deepcopy
from typing import Any, TypeVar

from fastapi.dependencies import utils

F = TypeVar("F", bound=Callable[..., Any])
_APPLIED = "_portfolio_api_memoised"


def _by_field(function: F) -> F:
    """`function(field, **options)` kept per field object and options."""
    answers: dict[int | tuple[int, tuple[Any, ...]], tuple[Any, Any]] = {}

    @functools.wraps(function)
    def memoised(field: Any, **options: Any) -> Any:
        key = (id(field), tuple(sorted(options.items()))) if options else id(field)
        found = answers.get(key)
        if found is not None and found[0] is field:
            return found[1]
        answer = function(field, **options)
        answers[key] = (field, answer)
        return answer

    setattr(memoised, _APPLIED, True)
    return memoised  # type: ignore[return-value]


def _by_annotation(function: F) -> F:
    """`function(annotation)` kept per annotation (computed afresh for an unhashable one)."""
    cached = functools.lru_cache(maxsize=4096)(function)

    @functools.wraps(function)
    def memoised(annotation: Any) -> Any:
        try:
            return cached(annotation)
        except TypeError:
            return function(annotation)

    setattr(memoised, _APPLIED, True)
    return memoised  # type: ignore[return-value]


def _by_identity(function: F) -> F:
    """`function(subject)` (a dependency's function) or `function(dependant=subject, ...)`
    (its cache key: the other argument is a cache of FastAPI's own) kept per subject object.

    Bounded: a dependency override makes new dependants for each request."""
    answers: dict[int, tuple[Any, Any]] = {}

    @functools.wraps(function)
    def memoised(subject: Any = None, **options: Any) -> Any:
        key = subject if subject is not None else options["dependant"]
        found = answers.get(id(key))
        if found is not None and found[0] is key:
            return found[1]
        answer = function(subject, **options) if subject is not None else function(**options)
        if len(answers) >= _MAX_REMEMBERED:
            answers.clear()
        answers[id(key)] = (key, answer)
        return answer

    setattr(memoised, _APPLIED, True)
    return memoised  # type: ignore[return-value]


_MAX_REMEMBERED = 4096
BY_FIELD = ("_get_param_model", "_get_param_aliases", "_is_json_field")
BY_ANNOTATION = ("field_annotation_is_sequence",)
BY_IDENTITY = (
    "_get_cache_key", "_is_gen_callable", "_is_async_gen_callable", "_is_coroutine_callable",
)  # fmt: skip
ABSENT_DEFAULTED = "request_params_to_args"


@_by_field
def _aliases_if_defaulted(field: Any) -> tuple[str, ...] | None:
    """The names a parameter may come by, if its absence means its default with no check
    (FastAPI's rule: a plain optional parameter whose default is not validated)."""
    info = field.field_info
    if utils._get_param_model(field) is not None or info.is_required() or info.validate_default:
        return None
    return tuple(alias for _, alias in utils._get_param_aliases(field))


def _defaulting_absent(original: F) -> F:
    @functools.wraps(original)
    def request_params_to_args(
        fields: Sequence[Any], received_params: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[Any]]:
        defaults: dict[str, Any] = {}
        asked: list[Any] = []
        for field in fields:
            aliases = _aliases_if_defaulted(field)
            if aliases is not None and not any(alias in received_params for alias in aliases):
                defaults[field.name] = deepcopy(field.default)
            else:
                asked.append(field)
        if not asked:
            return defaults, []
        values, errors = original(asked, received_params)
        return {**defaults, **values}, errors

    setattr(request_params_to_args, _APPLIED, True)
    return request_params_to_args  # type: ignore[return-value]


def apply() -> None:
    """Replace the functions in FastAPI's module, where `request_params_to_args` finds them."""
    if getattr(utils._get_param_model, _APPLIED, False):
        return
    for name in BY_FIELD:
        setattr(utils, name, _by_field(getattr(utils, name)))
    for name in BY_ANNOTATION:
        setattr(utils, name, _by_annotation(getattr(utils, name)))
    for name in BY_IDENTITY:
        setattr(utils, name, _by_identity(getattr(utils, name)))
    setattr(utils, ABSENT_DEFAULTED, _defaulting_absent(getattr(utils, ABSENT_DEFAULTED)))
