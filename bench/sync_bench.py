"""Retries and sync: what a 304 and an idempotent replay cost against a full answer.

Creates a throwaway PostgreSQL database (test_skincare_syncbench, migrated, destroyed
at the end) and times requests through the whole Django stack (middleware, DRF, JWT)
with the test client in production mode, Redis as cache when SYNC_BENCH_REDIS_URL is
set (local memory otherwise):
- the catalogue list (anonymous, cached): 200 against 304 to its version ETag;
- a user's 20 x 8 routines list: 200 against 304 to its body-hash ETag (the server
  still builds the body; the transfer is saved), and the md5 of that body alone;
- POST routines/: without a key, with a new key, and a replay of a stored key.

Run from the repository root:
    .venv/bin/python bench/sync_bench.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BASE_URL = "postgres://postgres@127.0.0.1:5432/skincare_syncbench"


def timed(call, rounds: int) -> tuple[float, object]:
    """Median ms of `rounds` calls (after one warm-up), and the last result."""
    result = call()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        result = call()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), result


def run(rounds: int) -> list[tuple[str, float, int, int]]:
    import hashlib

    from common import add_routines
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.tests.factories import UserFactory
    from routines.models import Routine

    rows = []
    anonymous = APIClient()
    url = "/api/v1/products/"
    full_ms, full = timed(lambda: anonymous.get(url), rounds)
    etag = full["ETag"]
    cond_ms, cond = timed(lambda: anonymous.get(url, HTTP_IF_NONE_MATCH=etag), rounds)
    assert (full.status_code, cond.status_code) == (200, 304)
    rows += [
        ("GET products/ (cached) 200", full_ms, full.status_code, len(full.content)),
        ("GET products/ 304 (version ETag)", cond_ms, cond.status_code, 0),
    ]

    user = UserFactory()
    client = APIClient()
    token = RefreshToken.for_user(user).access_token
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    add_routines(user, routines=20, steps=8)
    url = "/api/v1/routines/"
    full_ms, full = timed(lambda: client.get(url), rounds)
    etag = full["ETag"]
    cond_ms, cond = timed(lambda: client.get(url, HTTP_IF_NONE_MATCH=etag), rounds)
    md5_ms, _ = timed(lambda: hashlib.md5(full.content).hexdigest(), rounds)
    assert (full.status_code, cond.status_code) == (200, 304)
    rows += [
        ("GET routines/ 20x8 200", full_ms, 200, len(full.content)),
        ("GET routines/ 20x8 304 (body-hash ETag)", cond_ms, 304, 0),
        ("  md5 of that body (the ETag's cost)", md5_ms, 0, len(full.content)),
    ]

    Routine.objects.filter(user=user).delete()
    body = {"period": "am", "name": "Morning"}

    def create(key=None):
        extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        response = client.post(url, body, format="json", **extra)
        if "Idempotent-Replayed" not in response:
            Routine.objects.filter(pk=response.json()["id"]).delete()
        return response

    plain_ms, plain = timed(create, rounds)
    keyed_ms, keyed = timed(lambda: create(str(uuid.uuid4())), rounds)
    create("replayed")
    replay_ms, replay = timed(lambda: create("replayed"), rounds)
    assert replay["Idempotent-Replayed"] == "true"
    rows += [
        ("POST routines/ without a key", plain_ms, plain.status_code, 0),
        ("POST routines/ with a new key", keyed_ms, keyed.status_code, 0),
        ("POST routines/ replay of a key", replay_ms, replay.status_code, 0),
    ]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "skincare.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "bench-" + secrets.token_urlsafe(48),
            "DJANGO_ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "false",
            "EMAIL_URL": "smtp://127.0.0.1:1",
            "DATABASE_URL": os.environ.get("SYNC_BENCH_DATABASE_URL", BASE_URL),
            "LOG_LEVEL": "WARNING",
            "THROTTLE_ANON": "10000000/min",
            "THROTTLE_USER": "10000000/min",
        }
    )
    os.environ.pop("REDIS_URL", None)
    if os.environ.get("SYNC_BENCH_REDIS_URL"):
        os.environ["REDIS_URL"] = os.environ["SYNC_BENCH_REDIS_URL"]
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()
    from django.core.cache import cache

    from bench.common import test_databases

    with test_databases():
        cache.clear()
        rows = run(args.rounds)
    print(f"median of {args.rounds} requests each, in process (Django test client)\n")
    print("| request | median ms | status | body bytes |")
    print("|---|---:|---:|---:|")
    for name, ms, code, size in rows:
        print(f"| {name} | {ms:.2f} | {code or ''} | {size or ''} |")
    ms = [row[1] for row in rows]
    pairs = [
        ("products 304/200", ms[1], ms[0]),
        ("routines 304/200", ms[3], ms[2]),
        ("md5/routines 200", ms[4], ms[2]),
        ("keyed/plain create", ms[6], ms[5]),
        ("replay/plain create", ms[7], ms[5]),
    ]
    print("\nratios: " + "; ".join(f"{name} {a / b:.3f}" for name, a, b in pairs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
