"""A DRF answer is freed by reference counting, not left to the cyclic collector.

Requests go through Django's WSGI handler as gunicorn calls it (the test client
keeps its own references), with the collector paused, so what it finds afterwards
is exactly what the request left in reference cycles.
"""

import gc
from dataclasses import dataclass
from wsgiref.util import setup_testing_defaults

import pytest
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import override_settings
from rest_framework_simplejwt.tokens import RefreshToken

from notifications.tests.factories import NotificationFactory

URL = "/api/v1/notifications/"
RELEASE = "skincare.http.ReleaseViewMiddleware"


@dataclass
class Answer:
    status: str
    headers: dict[str, str]
    body: bytes
    left_in_cycles: int  # objects the collector found once the server let go


@pytest.fixture
def answer(user):
    """A function: GET URL through a fresh WSGI handler (extra WSGI headers as
    keywords) and return its Answer."""
    NotificationFactory.create_batch(5, recipient=user)
    token = RefreshToken.for_user(user).access_token

    def get(**headers: str) -> Answer:
        handler = WSGIHandler()  # reads MIDDLEWARE now
        environ = {
            "PATH_INFO": URL,
            "REQUEST_METHOD": "GET",
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "HTTP_HOST": "testserver",
            **headers,
        }
        setup_testing_defaults(environ)
        started = []
        gc.collect()
        gc.disable()
        try:
            response = handler(
                environ, lambda *status_headers: started.append(status_headers)
            )
            body = b"".join(response)
            response.close()
            del response
            left = gc.collect()
        finally:
            gc.enable()
        status, header_list = started[0]
        return Answer(status, dict(header_list), body, left)

    # As the test client does: the test's transaction must outlive the "request".
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def without_release(settings):
    return override_settings(
        MIDDLEWARE=[m for m in settings.MIDDLEWARE if m != RELEASE]
    )


@pytest.mark.django_db
def test_a_drf_answer_leaves_little_for_the_cyclic_collector(answer, settings):
    answer()  # first request: imports, caches, lazy settings
    released = answer()
    with without_release(settings):
        kept = answer()

    assert released.status == kept.status == "200 OK"
    assert released.body == kept.body
    # The page's rows, serializer output, view and request no longer wait for it.
    assert released.left_in_cycles * 2 < kept.left_in_cycles, (released, kept)


@pytest.mark.django_db
def test_an_unchanged_answer_swapped_for_a_304_is_freed_too(answer, settings):
    etag = answer().headers["ETag"]
    released = answer(HTTP_IF_NONE_MATCH=etag)
    with without_release(settings):
        kept = answer(HTTP_IF_NONE_MATCH=etag)

    assert released.status == kept.status == "304 Not Modified"
    assert released.body == kept.body == b""
    assert released.left_in_cycles * 2 < kept.left_in_cycles, (released, kept)
