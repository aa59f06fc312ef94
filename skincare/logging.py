"""Request ids, one structured log line per request, and redaction of secrets."""

import logging
import logging.config
import re
import time
import uuid
from collections.abc import Mapping
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

logger = logging.getLogger("skincare.request")


class RequestIdFilter(logging.Filter):
    """Adds the current request id to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


def incoming_request_id(value: str | None) -> str:
    """Return the caller's request id when it is safe to echo, else a new one."""
    if value and _VALID_REQUEST_ID.match(value):
        return value
    return uuid.uuid4().hex


class RequestLogMiddleware:
    """Tags the request with an id, echoes it, and logs one line when it ends."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = incoming_request_id(request.headers.get(REQUEST_ID_HEADER))
        token = request_id_var.set(request_id)
        request.request_id = request_id
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            user = getattr(request, "user", None)
            user_id = (
                str(user.pk) if user is not None and user.is_authenticated else None
            )
            logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "user_id": user_id,
                },
            )
            return response
        finally:
            request_id_var.reset(token)


# ------------------------------------------------------------------------------
# Redaction: no password, token, secret key or photo byte reaches a log line.
# ------------------------------------------------------------------------------
REDACTED = "[redacted]"
_SENSITIVE_KEY = re.compile(
    r"pass|secret|token|authorization|cookie|^(refresh|access|code|photo|signature)$",
    re.IGNORECASE,
)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
_BEARER = re.compile(r"(Bearer|Basic)\s+[^\s'\",]+", re.IGNORECASE)
# django.core.signing values (verification and reset codes): payload:timestamp:mac,
# the colons possibly URL-encoded when the code sits in a link.
_SIGNED = re.compile(
    r"\.?[\w-]{8,}(?::|%3A)[0-9A-Za-z]{4,8}(?::|%3A)[\w-]{20,}", re.IGNORECASE
)
# A link's secret-bearing query parameter, whatever its value looks like.
_SECRET_PARAM = re.compile(
    r"([?&#](?:token|code|key|signature|secret)=)[^&#\s'\"]+", re.IGNORECASE
)
_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "request_id",
}


def _secret_key() -> str:
    from django.conf import settings

    try:
        return settings.SECRET_KEY if settings.configured else ""
    except Exception:
        return ""


def redact_text(text: str) -> str:
    """Mask JWTs, one-time codes, credentials and the SECRET_KEY in a string."""
    text = _JWT.sub(REDACTED, text)
    text = _SIGNED.sub(REDACTED, text)
    text = _SECRET_PARAM.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    key = _secret_key()
    if key and key in text:
        text = text.replace(key, REDACTED)
    return text


def redact_value(value, depth: int = 0):
    """A copy of value with sensitive keys, token-like strings and bytes masked."""
    if depth > 5:
        return value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    if isinstance(value, Mapping):
        return {
            key: REDACTED
            if isinstance(key, str) and _SENSITIVE_KEY.search(key)
            else redact_value(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set):
        return type(value)(redact_value(item, depth + 1) for item in value)
    return value


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask secrets in a record's message, arguments and extra fields, in place."""
    if isinstance(record.msg, str):
        record.msg = redact_text(record.msg)
    if isinstance(record.args, Mapping):
        record.args = redact_value(record.args)
    elif isinstance(record.args, tuple):
        record.args = tuple(redact_value(arg) for arg in record.args)
    for key in record.__dict__.keys() - _STANDARD_ATTRS:
        if _SENSITIVE_KEY.search(key):
            record.__dict__[key] = REDACTED
        else:
            record.__dict__[key] = redact_value(record.__dict__[key])
    return record


class RedactFilter(logging.Filter):
    """Handler filter: masks secrets in extra fields added after record creation."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def _redacting_factory(factory):
    def make_record(*args, **kwargs):
        return redact_record(factory(*args, **kwargs))

    make_record.redacting = True
    return make_record


def configure(config: dict) -> None:
    """LOGGING_CONFIG: dictConfig, and redact every record when it is created.

    Redacting at creation covers every handler (pytest's caplog, Sentry, a file)
    and not only the ones that list RedactFilter.
    """
    logging.config.dictConfig(config)
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "redacting", False):
        logging.setLogRecordFactory(_redacting_factory(factory))
