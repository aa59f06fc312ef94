"""One key, many attempts at once or after a lost answer: the work is done once."""

import json
import select
import socket
import struct
import threading
import time

import httpx
import pytest
from django.db import connection
from rest_framework_simplejwt.tokens import RefreshToken

from routines import services as routine_services
from routines.models import Routine

pytestmark = pytest.mark.django_db(transaction=True)

ROUTINES = "/api/v1/routines/"
ROUTINE = {"period": "am", "name": "Morning"}


def sessions_waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def wait_until(predicate, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def held_create(monkeypatch):
    """create_routine that counts its calls and waits, inside, until released."""
    entered, release, calls = threading.Event(), threading.Event(), []
    real = routine_services.create_routine

    def held(**kwargs):
        calls.append(1)
        entered.set()
        assert release.wait(20)
        return real(**kwargs)

    monkeypatch.setattr(routine_services, "create_routine", held)
    yield entered, release, calls
    release.set()


def post_in_thread(client, results: dict, name: str) -> threading.Thread:
    def send():
        try:
            results[name] = client.post(
                ROUTINES, ROUTINE, format="json", HTTP_IDEMPOTENCY_KEY="same"
            )
        finally:
            connection.close()

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def test_a_concurrent_retry_waits_for_the_first_and_replays_it(
    requires_postgres, user, client_for, held_create
):
    # given a first request with a key, in the middle of its work
    entered, release, calls = held_create
    results: dict = {}
    first = post_in_thread(client_for(user), results, "first")
    assert entered.wait(10)

    # when a retry with the same key arrives and blocks on the key's row
    second = post_in_thread(client_for(user), results, "second")
    wait_until(lambda: sessions_waiting_on_a_lock() == 1)
    release.set()
    first.join(20)
    second.join(20)

    # then the work was done once and the retry got the first answer
    assert calls == [1]
    assert results["first"].status_code == 201
    assert results["second"].status_code == 201
    assert results["second"].content == results["first"].content
    assert results["second"]["Idempotent-Replayed"] == "true"
    assert Routine.objects.filter(user=user).count() == 1


def test_a_retry_waiting_too_long_gets_409_with_retry_after(
    requires_postgres, user, client_for, held_create, settings
):
    settings.IDEMPOTENCY_WAIT_SECONDS = 0.2
    entered, release, calls = held_create
    results: dict = {}
    first = post_in_thread(client_for(user), results, "first")
    assert entered.wait(10)

    second = post_in_thread(client_for(user), results, "second")
    second.join(20)
    release.set()
    first.join(20)
    third = client_for(user).post(
        ROUTINES, ROUTINE, format="json", HTTP_IDEMPOTENCY_KEY="same"
    )

    assert results["second"].status_code == 409
    assert results["second"].json()["errors"][0]["code"] == (
        "idempotency_key_in_progress"
    )
    assert results["second"]["Retry-After"] == "1"
    assert calls == [1]
    assert (third.status_code, third.content) == (201, results["first"].content)
    assert Routine.objects.filter(user=user).count() == 1


def test_a_retry_after_the_connection_dropped_mid_response_gets_the_first_answer(
    live_server, user
):
    # given a real server and a client that sends a keyed create on a raw socket
    token = str(RefreshToken.for_user(user).access_token)
    host, port = live_server.thread.host, live_server.thread.port
    body = json.dumps(ROUTINE).encode()
    head = (
        f"POST {ROUTINES} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nIdempotency-Key: dropped-1\r\n\r\n"
    )
    sock = socket.create_connection((host, port), timeout=30)
    sock.sendall(head.encode() + body)

    # when the answer starts to arrive and the connection is reset unread
    readable, _, _ = select.select([sock], [], [], 30)
    assert readable
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()

    # then the retry with the same key gets the first answer and nothing new
    retry = httpx.post(
        f"{live_server.url}{ROUTINES}",
        json=ROUTINE,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "dropped-1"},
        timeout=30,
    )
    routines = list(Routine.objects.filter(user=user))
    assert len(routines) == 1
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == str(routines[0].pk)
