"""A DRF answer is freed by reference counting, not left to the cyclic collector.

Requests go through Django's WSGI handler as gunicorn calls it (the test client
keeps its own references), with the collector paused, so what it finds afterwards
is exactly what the request left in reference cycles.
"""

import gc
from wsgiref.util import setup_testing_defaults

import pytest
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import override_settings
from rest_framework_simplejwt.tokens import RefreshToken

from notifications.tests.factories import NotificationFactory

URL = "/api/v1/notifications/"


@pytest.fixture
def answer(user, settings):
    """A function: GET URL through a fresh WSGI handler, return (status, body,
    objects the cyclic collector found once the server let go of the response)."""
    NotificationFactory.create_batch(5, recipient=user)
    token = RefreshToken.for_user(user).access_token

    def get() -> tuple[str, bytes, int]:
        handler = WSGIHandler()  # reads MIDDLEWARE now
        environ = {
            "PATH_INFO": URL,
            "REQUEST_METHOD": "GET",
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "HTTP_HOST": "testserver",
        }
        setup_testing_defaults(environ)
        statuses = []
        gc.collect()
        gc.disable()
        try:
            response = handler(environ, lambda status, headers: statuses.append(status))
            body = b"".join(response)
            response.close()
            del response
            left = gc.collect()
        finally:
            gc.enable()
        return statuses[0], body, left

    # As the test client does: the test's transaction must outlive the "request".
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_a_drf_answer_leaves_little_for_the_cyclic_collector(answer, settings):
    answer()  # first request: imports, caches, lazy settings
    status, body, released = answer()
    release = "skincare.http.ReleaseViewMiddleware"
    without = [m for m in settings.MIDDLEWARE if m != release]
    with override_settings(MIDDLEWARE=without):
        kept_status, kept_body, kept = answer()

    assert status == kept_status == "200 OK"
    assert body == kept_body
    # The page's rows, serializer output, view and request no longer wait for it.
    assert released * 2 < kept, (released, kept)
