"""`Idempotency-Key` on the API's creates: one decorator for every view that creates.

A POST sent with the header is done once per key: its first 2xx answer is stored
with the work, in one transaction, and a retry with the same key and body gets that
answer again (same status and body, `Idempotent-Replayed: true`) without the work
being done again. See README "Retries and sync".
"""

import functools
import hashlib
import json
import re
from collections.abc import Callable, Mapping

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpResponse
from django.utils.crypto import salted_hmac
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema

from idempotency import services
from idempotency.errors import IdempotencyKeyInvalid

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = "^[!-~]{1,255}$"  # printable ASCII, no spaces: a UUID is the usual key
_KEY_RE = re.compile(KEY_PATTERN)

PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    pattern=KEY_PATTERN,
    description=(
        "Makes a retry safe: a new random key (a UUID) per new request, the same "
        "key when the same request is sent again. For 24 hours a retry with the same "
        "key and body gets the first successful answer again (same status and body, "
        f"header `{REPLAYED_HEADER}: true`) and nothing is done twice; the same key "
        "with another body answers 422 `idempotency_key_reused`; while the first "
        "request is still running, a retry waits for it (a few seconds) or answers "
        "409 `idempotency_key_in_progress` with `Retry-After`. Error answers are not "
        "stored: a retry after a 4xx or 5xx is done afresh. Keys are per user (per "
        "e-mail address for registration)."
    ),
)


def user_scope(request) -> str:
    """Keys of signed-in users are theirs alone."""
    return f"user:{request.user.pk}"


def registration_scope(request) -> str:
    """Registration keys belong to the (normalised, hashed) address in the body."""
    from accounts.signin import email_key

    data = request.data
    email = data.get("email") if isinstance(data, Mapping) else None
    return "register:" + email_key(email if isinstance(email, str) else "")


def _file_digest(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def request_fingerprint(request) -> str:
    """HMAC-SHA256 of method, path and body; multipart file parts by their bytes.

    The parsed body is hashed in a canonical form (sorted keys), so a client that
    re-encodes the same JSON, or a new multipart boundary, is still the same request.
    """
    data = request.data
    if hasattr(data, "lists"):  # form or multipart: a QueryDict, files included
        data = {
            name: [
                {"file_sha256": _file_digest(v)} if isinstance(v, UploadedFile) else v
                for v in values
            ]
            for name, values in data.lists()
        }
    body = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    text = f"{request.method} {request.path}\n{body}"
    # Keyed: a registration body holds the password, which a plain hash would expose
    # to guessing by anyone who reads the table.
    return salted_hmac("idempotency.fingerprint", text, algorithm="sha256").hexdigest()


def _replay(record) -> HttpResponse:
    response = HttpResponse(
        bytes(record.body),
        status=record.status_code,
        content_type=record.content_type or None,
    )
    if record.location:
        response["Location"] = record.location
    response[REPLAYED_HEADER] = "true"
    return response


def idempotent(scope: Callable = user_scope):
    """Make a view method's POSTs idempotent under the `Idempotency-Key` header.

    Put it above `@action` on actions. Without the header the view runs as before.
    """

    def decorator(method):
        @functools.wraps(method)
        def wrapper(view, request, *args, **kwargs):
            key = request.headers.get(HEADER)
            if request.method != "POST" or key is None:
                return method(view, request, *args, **kwargs)
            if not _KEY_RE.fullmatch(key):
                raise IdempotencyKeyInvalid()
            fingerprint = request_fingerprint(request)
            with transaction.atomic():
                claim = services.claim_key(
                    scope=scope(request),
                    key=key,
                    fingerprint=fingerprint,
                    method=request.method,
                    path=request.path,
                )
                if not claim.new:
                    return _replay(claim.record)
                response = method(view, request, *args, **kwargs)
                if not 200 <= response.status_code < 300:
                    services.release_key(record=claim.record)
                    return response
                response = view.finalize_response(request, response, *args, **kwargs)
                response.render()
                services.store_answer(
                    record=claim.record,
                    status_code=response.status_code,
                    content_type=response.get("Content-Type", ""),
                    location=response.get("Location", "")[:255],
                    body=response.content,
                )
            return response

        return extend_schema(methods=["POST"], parameters=[PARAMETER])(wrapper)

    return decorator
