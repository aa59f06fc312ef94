"""Concurrent registrations of one address against a real PostgreSQL."""

import threading

import pytest
from django.db import connections
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.helpers import REGISTER_URL

ROUNDS = 3


def _register_at_once(email: str) -> list[tuple[int, str | None]]:
    barrier = threading.Barrier(2)
    answers: list[tuple[int, str | None]] = []
    lock = threading.Lock()

    def register(n: int) -> None:
        try:
            client = APIClient(raise_request_exception=False)
            barrier.wait(timeout=10)
            response = client.post(
                REGISTER_URL,
                {"email": email, "password": "a-Decent-passphrase-42"},
                REMOTE_ADDR=f"198.51.100.{n}",
            )
            code = None
            if response.status_code == 400:
                code = response.json()["errors"][0]["code"]
            with lock:
                answers.append((response.status_code, code))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_of_one_address_give_one_201_and_one_email_taken(
    requires_postgres,
):
    # several rounds: one may miss the race, all must answer alike
    for n in range(ROUNDS):
        email = f"race{n}@example.com"

        answers = _register_at_once(email if n % 2 else email.upper())

        assert sorted(answers) == [(201, None), (400, "email_taken")], answers
        assert User.objects.filter(email__iexact=email).count() == 1
