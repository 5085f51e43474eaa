"""One error hierarchy with DRF-shaped bodies, and the handlers that render them."""

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, RootModel
from sqlalchemy import MetaData, Table, UniqueConstraint
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from app.common.drf_messages import NON_FIELD_ERRORS, field_errors_from_pydantic
from app.common.workers import Busy
from app.models.base import Base, verbose_name

logger = logging.getLogger("app.errors")


class ErrorDetail(BaseModel):
    detail: str


class FieldErrors(RootModel[dict[str, list[str]]]):
    """`{"field": ["message", ...], "non_field_errors": [...]}`."""


# The detail form comes first: `{"detail": "..."}` also fits the open `FieldErrors`, and a
# generated client takes the first form that fits (a parse error would read as a field error).
class BadRequestBody(RootModel[ErrorDetail | FieldErrors]):
    """`{"detail": ...}` for a body that is not valid JSON, or field errors."""


class APIError(Exception):
    status_code: ClassVar[int] = 500
    default_detail: ClassVar[str] = "A server error occurred."
    description: ClassVar[str] = "Internal server error"
    openapi_model: ClassVar[type[BaseModel]] = ErrorDetail
    openapi_headers: ClassVar[dict[str, Any]] = {}

    def __init__(self, detail: str | None = None, headers: Mapping[str, str] | None = None):
        self.detail = detail or self.default_detail
        self.headers = dict(headers or {})
        super().__init__(self.detail)

    def body(self) -> Any:
        return {"detail": self.detail}

    @classmethod
    def openapi_response(cls) -> dict[str, Any]:
        response = {"model": cls.openapi_model, "description": cls.description}
        if cls.openapi_headers:
            response["headers"] = cls.openapi_headers
        return response


class ValidationFailed(APIError):
    status_code = 400
    description = "Invalid input"
    openapi_model = BadRequestBody

    def __init__(self, errors: Mapping[str, Sequence[str]]):
        self.errors = {field: list(messages) for field, messages in errors.items()}
        super().__init__("Invalid input.")

    @classmethod
    def field(cls, name: str, message: str) -> "ValidationFailed":
        return cls({name: [message]})

    def body(self) -> Any:
        return self.errors


class BadRequest(APIError):
    """A 400 with a `detail` (a request that cannot be carried out as things stand)."""

    status_code = 400
    default_detail = "Bad request."
    description = "Invalid input"
    openapi_model = BadRequestBody


class ParseError(APIError):
    status_code = 400
    default_detail = "Malformed request."
    description = "Invalid input"
    openapi_model = BadRequestBody


class _AuthenticationError(APIError):
    status_code = 401
    description = "Not authenticated"

    def __init__(self, detail: str | None = None):
        super().__init__(detail, headers={"WWW-Authenticate": "Token"})


class NotAuthenticated(_AuthenticationError):
    default_detail = "Authentication credentials were not provided."


class AuthenticationFailed(_AuthenticationError):
    default_detail = "Incorrect authentication credentials."


class PermissionDenied(APIError):
    status_code = 403
    default_detail = "You do not have permission to perform this action."
    description = "Not allowed"


class NotFound(APIError):
    status_code = 404
    default_detail = "Not found."
    description = "Not found"


class MethodNotAllowed(APIError):
    status_code = 405
    description = "Method not allowed"

    def __init__(self, method: str, headers: Mapping[str, str] | None = None):
        super().__init__(f'Method "{method}" not allowed.', headers)


class PreconditionFailed(APIError):
    status_code = 412
    default_detail = "The object changed since you read it."
    description = "The object changed since it was read (If-Match)"


class PayloadTooLarge(APIError):
    status_code = 413
    default_detail = "Request body is too large."
    description = "Request body too large"


class UnsupportedMediaType(APIError):
    status_code = 415
    description = "Unsupported media type"

    def __init__(self, media_type: str, *, for_upload: bool = False):
        if for_upload:
            super().__init__(
                f'Unsupported file type "{media_type}": markup a browser would run '
                "(HTML, SVG, XML) is not accepted."
            )
        else:
            super().__init__(f'Unsupported media type "{media_type}" in request.')


RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer"},
    }
}


class Throttled(APIError):
    status_code = 429
    description = "Too many requests"
    openapi_headers = RETRY_AFTER

    def __init__(self, wait_seconds: int):
        wait_seconds = max(1, wait_seconds)
        unit = "second" if wait_seconds == 1 else "seconds"
        super().__init__(
            f"Request was throttled. Expected available in {wait_seconds} {unit}.",
            headers={"Retry-After": str(wait_seconds)},
        )


class ServiceUnavailable(APIError):
    status_code = 503
    default_detail = "Service temporarily unavailable, try again later."
    description = "Database unreachable"


class StorageUnavailable(ServiceUnavailable):
    """The media storage (disk or bucket) failed; nothing of the request was kept."""

    default_detail = "File storage temporarily unavailable, try again later."
    description = "Database or file storage unreachable"


class ServerBusy(StorageUnavailable):
    """Image work is full (every thread decoding, the queue behind them full): refused at once."""

    default_detail = "Server busy, try again later."
    description = "Busy with other images, or database or file storage unreachable"
    openapi_headers = RETRY_AFTER
    RETRY_SECONDS = 2

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": str(self.RETRY_SECONDS)})


# Errors a dependency can raise, so that every route depending on it documents them.
_DEPENDENCY_ERRORS: dict[Callable[..., Any], tuple[type[APIError], ...]] = {}

D = TypeVar("D", bound=Callable[..., Any])


def raises(*errors: type[APIError]) -> Callable[[D], D]:
    """Declare the errors a dependency can raise; routes depending on it document them."""

    def register(dependency: D) -> D:
        _DEPENDENCY_ERRORS[dependency] = errors
        return dependency

    return register


def errors_raised_by(dependency: Callable[..., Any]) -> tuple[type[APIError], ...]:
    return _DEPENDENCY_ERRORS.get(dependency, ())


def openapi_responses(errors: Iterable[type[APIError]]) -> dict[int | str, dict[str, Any]]:
    return {error.status_code: error.openapi_response() for error in errors}


def _render(error: APIError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status_code, headers=error.headers)


def error_response(error: APIError) -> JSONResponse:
    """The response an error raised in a route would get, for middleware that answers itself."""
    return _render(error)


async def handle_api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, APIError)
    return _render(exc)


PUBLIC_API = "/api/public/"


async def handle_request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(error["loc"][:1] == ("path",) for error in errors):
        # A path id that is not an integer in range names no object.
        return _render(NotFound())
    response = _render(ValidationFailed(field_errors_from_pydantic(errors)))
    if request.url.path.startswith(PUBLIC_API):
        response.headers["Cache-Control"] = "no-store"  # a cache keeps the public 200s and 404s
    return response


async def handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    error: APIError
    if exc.status_code == 404:
        error = NotFound()
    elif exc.status_code == 413:
        error = PayloadTooLarge()
    elif exc.status_code == 405:
        allowed = ", ".join(sorted(allowed_methods(request.app.router.routes, request.url.path)))
        error = MethodNotAllowed(request.method, {"Allow": allowed})
    else:
        error = APIError(str(exc.detail), exc.headers)
        error.status_code = exc.status_code  # type: ignore[misc]
    return _render(error)


def allowed_methods(routes: Iterable[Any], path: str) -> set[str]:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI's included-router node
        if included is not None:
            methods |= allowed_methods(included.routes, path)
        elif getattr(route, "methods", None) and route.path_regex.match(path):
            methods |= set(route.methods)
    return methods


async def handle_integrity_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, sa_exc.IntegrityError)
    return _render(validation_error_from_integrity(exc))


def validation_error_from_integrity(exc: sa_exc.IntegrityError) -> ValidationFailed:
    """A unique violation raced past the repository's checks becomes DRF's unique message."""
    unique = _violated_unique_columns(exc)
    if unique is None:
        return ValidationFailed.field(NON_FIELD_ERRORS, "A referenced object does not exist.")
    table, columns = unique
    # A unique set such as (portfolio_id, key) is scoped by its parent: the last column is the
    # client's field, and the message is the one the repository's own check gives.
    field = columns[-1]
    name = verbose_name(table.info, table.name)
    return ValidationFailed.field(field, f"{name} with this {field} already exists.")


def _violated_unique_columns(exc: sa_exc.IntegrityError) -> tuple[Table, list[str]] | None:
    cause = getattr(exc.orig, "__cause__", None)
    constraint_name = getattr(cause, "constraint_name", None)  # asyncpg
    if constraint_name:
        return _find_unique_constraint(constraint_name)
    message = str(exc.orig)
    prefix = "UNIQUE constraint failed: "  # SQLite names "table.column, table.column"
    if not message.startswith(prefix):
        return None
    qualified = [part.strip() for part in message[len(prefix) :].split(",")]
    table_name = qualified[0].split(".")[0]
    tables = [metadata.tables.get(table_name) for metadata in CONSTRAINT_METADATA]
    table = next((table for table in tables if table is not None), None)
    if table is None:
        return None
    return table, [part.split(".", 1)[1] for part in qualified]


# Where unique constraints are looked up by name; a test-only table registers its own metadata.
CONSTRAINT_METADATA: list[MetaData] = [Base.metadata]


def _find_unique_constraint(name: str) -> tuple[Table, list[str]] | None:
    tables = [table for metadata in CONSTRAINT_METADATA for table in metadata.tables.values()]
    for table in tables:
        for constraint in table.constraints:
            if constraint.name == name and isinstance(constraint, UniqueConstraint):
                return table, [column.name for column in constraint.columns]
        for index in table.indexes:
            if index.name == name and index.unique:
                return table, [column.name for column in index.columns]
    return None


async def handle_database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("database unavailable on %s %s: %r", request.method, request.url.path, exc)
    return _render(ServiceUnavailable())


async def handle_database_error(request: Request, exc: Exception) -> JSONResponse:
    """A driver error while connecting (no statement: the server refuses or is starting) or one
    that cost the connection (the server went away mid-statement) is a 503; any other is a bug."""
    if isinstance(exc, sa_exc.DBAPIError) and (exc.connection_invalidated or exc.statement is None):
        return await handle_database_unavailable(request, exc)
    return await handle_unexpected(request, exc)


async def handle_client_gone(request: Request, exc: Exception) -> Response:
    """The client hung up while sending its body: nobody reads an answer, and it is no error of
    ours. Logged (access log: 499, as nginx says) without a traceback."""
    logger.info("client disconnected during %s %s", request.method, request.url.path)
    return Response(status_code=CLIENT_CLOSED_REQUEST)


async def handle_busy(_request: Request, _exc: Exception) -> JSONResponse:
    """Password hashing is full (routes that hash document the 429): try again in a second."""
    return _render(Throttled(1))


async def handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return _render(APIError())


CLIENT_CLOSED_REQUEST = 499

DATABASE_UNAVAILABLE = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    sa_exc.DisconnectionError,
    ConnectionError,
    TimeoutError,
)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(APIError, handle_api_error)
    app.add_exception_handler(RequestValidationError, handle_request_validation)
    app.add_exception_handler(StarletteHTTPException, handle_http_exception)
    app.add_exception_handler(sa_exc.IntegrityError, handle_integrity_error)
    for error in DATABASE_UNAVAILABLE:
        app.add_exception_handler(error, handle_database_unavailable)
    app.add_exception_handler(sa_exc.DBAPIError, handle_database_error)
    app.add_exception_handler(ClientDisconnect, handle_client_gone)
    app.add_exception_handler(Busy, handle_busy)
    app.add_exception_handler(Exception, handle_unexpected)
