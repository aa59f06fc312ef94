"""Error responses outside DRF views, in the API's error shape for API paths."""

import logging
import math

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.views.defaults import page_not_found, server_error
from drf_standardized_errors import handler
from rest_framework.exceptions import (
    APIException,
    AuthenticationFailed,
    ErrorDetail,
    NotFound,
    PermissionDenied,
    Throttled,
    ValidationError,
)

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """A refused operation of some app's services, with the API's stable `code`.

    Each app subclasses it in its `errors.py`. Views let it propagate: the API's
    exception handler (below) answers it with `status`, `code` and `message`, on
    `field` for a 400 that names one (one error per entry of `messages` there), and
    with Retry-After when `retry_after` is set.
    """

    code = "error"
    status = 400
    field: str | None = None
    message = "The operation was refused."
    retry_after: int | None = None

    def __init__(
        self,
        message: str | None = None,
        *,
        field: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.messages = [self.message]
        if field is not None:
            self.field = field
        if code is not None:
            self.code = code
        if retry_after is not None:
            self.retry_after = max(math.ceil(retry_after), 1)

    @property
    def detail(self) -> str:
        return self.message


STATUS_EXCEPTIONS = {
    401: AuthenticationFailed,
    403: PermissionDenied,
    404: NotFound,
}


def api_error(exc: DomainError) -> APIException:
    """The API error for a domain error, in the one shape every app answers."""
    if exc.status == 400 and exc.field:
        details = [ErrorDetail(message, code=exc.code) for message in exc.messages]
        return ValidationError({exc.field: details})
    if exc.status == 429:
        return Throttled(wait=exc.retry_after, detail=exc.detail, code=exc.code)
    known = STATUS_EXCEPTIONS.get(exc.status)
    if known is not None:  # DRF's own, e.g. 401 with its WWW-Authenticate header
        return known(detail=exc.detail, code=exc.code)
    error = APIException(detail=exc.detail, code=exc.code)
    error.status_code = exc.status
    if exc.retry_after is not None:  # answered as Retry-After, like Throttled.wait
        error.wait = exc.retry_after
    return error


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _error(status: int, error_type: str, code: str, detail: str) -> JsonResponse:
    return JsonResponse(
        {
            "type": error_type,
            "errors": [{"code": code, "detail": detail, "attr": None}],
        },
        status=status,
    )


def not_found(request, exception=None):
    if _is_api(request):
        return _error(404, "client_error", "not_found", "Not found.")
    return page_not_found(request, exception)


def server_failure(request):
    if _is_api(request):
        return _error(500, "server_error", "error", "A server error occurred.")
    return server_error(request)


def bad_request(request, exception=None):
    if _is_api(request):
        return _error(400, "client_error", "bad_request", "Bad request.")
    from django.views.defaults import bad_request as default_bad_request

    return default_bad_request(request, exception)


class ServiceUnavailable(APIException):
    status_code = 503
    default_detail = "The service is briefly unavailable; try again shortly."
    default_code = "service_unavailable"
    # Read by the handler below, like Throttled.wait, for the Retry-After header.
    wait = 5


class ExceptionHandler(handler.ExceptionHandler):
    """drf-standardized-errors' handler; a lost database connection answers 503."""

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, DomainError):
            return api_error(exc)
        if isinstance(exc, OperationalError | InterfaceError):
            logger.warning("database unavailable: %s", exc)
            return ServiceUnavailable()
        return super().convert_known_exceptions(exc)
