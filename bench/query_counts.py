"""SQL queries per list request at 5 and at 50 rows: a count that grows is an N+1.

Creates a throwaway PostgreSQL database with Django's test-runner utilities
(test_skincare_querycounts, migrated, destroyed at the end), and for each list
endpoint and size seeds rows inside a transaction that is rolled back, asks for one
page of exactly that many rows (``page_size``) with the test client and counts the
queries with CaptureQueriesContext. The cache is the local-memory one and is cleared
before each seeding, so the cached catalogue lists are counted cold (their build);
routines are seeded with their stored warnings, as their services write them.

Run from the repository root:
    .venv/bin/python bench/query_counts.py [--json bench/results/query_counts.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = (5, 50)
BASE_URL = "postgres://postgres@127.0.0.1:5432/skincare_querycounts"


class Rollback(Exception):
    pass


def seeders():
    """name -> (seed(user, n) returning the URL to ask, needs sign-in)."""
    from common import add_routines

    from analysis.tests.factories import CompletedAnalysisFactory
    from consultations.models import Consultation
    from consultations.tests.factories import (
        ConsultationFactory,
        DermatologistFactory,
        paris,
    )
    from notifications.tests.factories import NotificationFactory
    from routines.models import CheckIn, Ingredient, Product, RoutineStep
    from routines.tests.factories import (
        IngredientFactory,
        ProductFactory,
        RoutineFactory,
    )

    def products(user, n):
        extra = n - Product.objects.count()
        for _ in range(max(0, extra)):
            ProductFactory()
        return "/api/v1/products/"

    def ingredients(user, n):
        for _ in range(max(0, n - Ingredient.objects.count())):
            IngredientFactory()
        return "/api/v1/ingredients/"

    def routines(user, n):
        add_routines(user, routines=n, steps=3)
        return "/api/v1/routines/"

    def notifications(user, n):
        for _ in range(n):
            NotificationFactory(recipient=user)
        return "/api/v1/notifications/"

    def analyses(user, n):
        for _ in range(n):
            CompletedAnalysisFactory(user=user)
        return "/api/v1/analyses/"

    def dermatologists(user, n):
        for _ in range(n):
            DermatologistFactory()
        return "/api/v1/dermatologists/"

    def consultations(user, n):
        derms = [DermatologistFactory() for _ in range(min(n, 5))]
        first = paris(datetime.now(UTC).date() + timedelta(days=14), 9)
        for i in range(n):
            start = first + timedelta(days=i // 5)
            ConsultationFactory(
                patient=user,
                dermatologist=derms[i % len(derms)],
                start=start,
                end=start + timedelta(minutes=30),
                status=Consultation.Status.REQUESTED,
            )
        return "/api/v1/consultations/"

    def check_ins(user, n):
        routine = RoutineFactory(user=user, period="am")
        steps = RoutineStep.objects.bulk_create(
            RoutineStep(
                routine=routine,
                position=i + 1,
                name=f"Step {i}",
                step_kind="serum",
                active_from=date(2020, 1, 1),
            )
            for i in range(2)
        )
        today = datetime.now(UTC).date()
        CheckIn.objects.bulk_create(
            CheckIn(
                routine=routine,
                step=steps[i % 2],
                date=today - timedelta(days=i // 2),
            )
            for i in range(n)
        )
        return f"/api/v1/routines/{routine.pk}/check-ins/"

    return {
        "products": (products, False),
        "ingredients": (ingredients, False),
        "routines": (routines, True),
        "notifications": (notifications, True),
        "analyses": (analyses, True),
        "dermatologists": (dermatologists, False),
        "consultations": (consultations, True),
        "check-ins history": (check_ins, True),
    }


def count(name, seed, signed_in, n) -> dict:
    from django.core.cache import cache
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.tests.factories import UserFactory

    result = {}
    try:
        with transaction.atomic():
            # Cleared before seeding (which caches no response): the routines'
            # stored warnings are stamped with the catalogue version in the cache.
            cache.clear()
            user = UserFactory()
            url = seed(user, n)
            client = APIClient()
            if signed_in:
                token = RefreshToken.for_user(user).access_token
                client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(
                    url, {"page_size": n}, HTTP_ACCEPT="application/json"
                )
            body = response.json()
            rows = body["results"] if isinstance(body, dict) else body
            if response.status_code != 200 or len(rows) != n:
                raise RuntimeError(
                    f"{name}: {response.status_code}, {len(rows)} rows, wanted {n}"
                )
            path = re.sub(r"[0-9a-f-]{36}", "{id}", url.split("/api/v1/")[1])
            result = {"url": path, "queries": len(ctx)}
            result["sql"] = [q["sql"][:160] for q in ctx.captured_queries]
            raise Rollback
    except Rollback:
        pass
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--sql", action="store_true", help="print the queries")
    args = parser.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "skincare.settings"
    os.environ.setdefault("DJANGO_DEBUG", "true")  # counts queries like the suite
    os.environ["DATABASE_URL"] = os.environ.get("QUERY_COUNTS_DATABASE_URL", BASE_URL)
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):  # local-memory cache, eager tasks
        os.environ.pop(name, None)
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from bench.common import test_databases

    rows = []
    with test_databases():
        for name, (seed, signed_in) in seeders().items():
            counts = {n: count(name, seed, signed_in, n) for n in SIZES}
            small, big = (counts[n]["queries"] for n in SIZES)
            rows.append(
                {
                    "endpoint": name,
                    "url": counts[SIZES[0]]["url"],
                    **{f"queries_{n}": counts[n]["queries"] for n in SIZES},
                    "grows": big > small,
                    "sql_50": counts[SIZES[-1]]["sql"],
                }
            )
    print(markdown(rows))
    if args.sql:
        for row in rows:
            print(f"\n{row['endpoint']}:")
            print("\n".join(f"  {q}" for q in row["sql_50"]))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2))
    return 1 if any(r["grows"] for r in rows) else 0


def markdown(rows) -> str:
    lines = [
        "| list endpoint | GET | queries at 5 rows | queries at 50 rows | grows? |",
        "|---|---|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['endpoint']} | `{r['url']}?page_size=N` | {r['queries_5']} | "
            f"{r['queries_50']} | {'**GROWS**' if r['grows'] else 'no'} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
