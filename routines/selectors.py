"""Read queries of routines: catalogue, a user's routines, check-ins, adherence."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet, TextField, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.db.models.lookups import Contains

from routines.models import (
    SCHEDULE_EPOCH_ISO,
    CheckIn,
    Ingredient,
    Product,
    ProductIngredient,
    Routine,
    RoutineStep,
)

SCHEDULE_EPOCH = date.fromisoformat(SCHEDULE_EPOCH_ISO)


# ------------------------------------------------------------------------------
# Catalogue
# ------------------------------------------------------------------------------
def json_list_contains(field: str, value: str) -> Q | Contains:
    """Rows whose JSON list ``field`` holds the string ``value``, on any database.

    PostgreSQL answers jsonb containment (indexable); SQLite has no JSON containment
    lookup, so its JSON text is searched for the quoted value instead.
    """
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__contains": [value]})
    quoted = json.dumps(value)
    return Contains(Cast(field, TextField()), Value(quoted))


def ingredient_ids_named(names: Iterable[str]) -> list:
    """Ids of ingredients an INCI name, common name or function refers to.

    Matching mirrors ``IngredientInput.matches`` (case-insensitive). The ingredient
    table is small (hundreds of rows), so one query and a scan beat JSON lookups
    that differ per database.
    """
    wanted = {n.strip().lower() for n in names if n.strip()}
    if not wanted:
        return []
    ids = []
    for pk, inci, common, functions in Ingredient.objects.values_list(
        "id", "inci", "common_names", "functions"
    ):
        own = {inci.lower(), *(c.lower() for c in common or ())}
        if wanted & own or wanted & set(functions or ()):
            ids.append(pk)
    return ids


def _ordered_ingredients() -> Prefetch:
    return Prefetch(
        "product_ingredients",
        queryset=ProductIngredient.objects.select_related("ingredient").order_by(
            "position"
        ),
    )


def active_products() -> QuerySet[Product]:
    """Active catalogue products with their INCI lists in order (one extra query)."""
    return (
        Product.objects.filter(is_active=True)
        .prefetch_related(_ordered_ingredients())
        .order_by("brand", "name", "id")
    )


def ingredients() -> QuerySet[Ingredient]:
    return Ingredient.objects.order_by("inci")


# ------------------------------------------------------------------------------
# Routines
# ------------------------------------------------------------------------------
def routines_for(*, user) -> QuerySet[Routine]:
    """The user's routines, oldest first; ``step_rows`` reads their steps.

    Warnings are stored on the routine (routines.services.routines_with_warnings
    keeps them current), so a page needs no ingredient. They are read as the stored
    JSON text (``warnings_json``), never decoded on the way out (a page of 20 holds
    ~200 KB of them), with the first one's severity (``first_severity``): they are
    stored most severe first.
    """
    return (
        Routine.objects.filter(user=user)
        .defer("warnings")
        .annotate(
            warnings_json=Cast("warnings", TextField()),
            first_severity=KT("warnings__0__severity"),
        )
        .order_by("created_at", "id")
    )


# What routines.serializers.step_data reads.
STEP_COLUMNS = (
    "id",
    "routine_id",
    "position",
    "step_kind",
    "name",
    "weekdays",
    "every_n_days",
    "start_date",
    "note",
    "reason",
    "product_id",
    "product__slug",
    "product__brand",
    "product__name",
    "product__category",
)


def step_rows(*, routines: Iterable[Routine]) -> dict[Any, list[dict[str, Any]]]:
    """The steps of ``routines`` in order, with their product's names, by routine id.

    One query, rows rather than model instances: a page of 20 routines can hold 160
    steps, and building a step and its product is most of such a page's cost.
    """
    found: dict[Any, list[dict[str, Any]]] = {r.pk: [] for r in routines}
    steps = RoutineStep.objects.filter(routine__in=list(found)).order_by("position")
    for row in steps.values(*STEP_COLUMNS):
        found[row["routine_id"]].append(row)
    return found


def routines_to_check(*, user) -> QuerySet[Routine]:
    """The user's routines with steps, products and their ordered ingredients.

    What the conflict rules read: four queries whatever the number of routines.
    """
    steps = RoutineStep.objects.select_related("product").order_by("position")
    return (
        Routine.objects.filter(user=user)
        .order_by("created_at", "id")
        .prefetch_related(
            Prefetch("steps", queryset=steps),
            # Link rows alone, then each distinct ingredient once: every product
            # lists water and glycerin, so joining would build them per product.
            Prefetch(
                "steps__product__product_ingredients",
                queryset=ProductIngredient.objects.only(
                    "id", "product_id", "ingredient_id", "position"
                ).order_by("position"),
            ),
            Prefetch(
                "steps__product__product_ingredients__ingredient",
                queryset=Ingredient.objects.defer("description"),
            ),
        )
    )


def check_ins_for(*, routine: Routine) -> QuerySet[CheckIn]:
    return CheckIn.objects.filter(routine=routine).order_by("-date", "step_id")


# ------------------------------------------------------------------------------
# Adherence: computed in SQL (gaps and islands), on PostgreSQL and SQLite alike
# ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Adherence:
    """Completion over a window of local days, counting only scheduled steps."""

    start: date
    end: date
    days: int
    scheduled_days: int
    completed_days: int
    scheduled_steps: int
    completed_steps: int
    completion_rate: float
    current_streak: int
    longest_streak: int


def day_number(day: date) -> int:
    """Days since the schedule epoch (a Monday): weekday is day_number % 7."""
    return (day - SCHEDULE_EPOCH).days


def _sql_day_number(column: str) -> str:
    """SQL for the day number of a DATE column (see ``day_number``)."""
    if connection.vendor == "postgresql":
        return f"({column} - DATE '{SCHEDULE_EPOCH_ISO}')"
    return f"CAST(julianday({column}) - julianday('{SCHEDULE_EPOCH_ISO}') AS INTEGER)"


# A day is "scheduled" when at least one step runs on it (and the step existed); it is
# "completed" when every step scheduled on it was checked in. Streaks count
# consecutive scheduled days that were completed: days with nothing scheduled neither
# break nor extend them. Islands: among scheduled days numbered 1..n in order
# (``rn``), completed days of one streak share ``rn - row_number over completed``.
# Today, while still incomplete, does not break the current streak.
ADHERENCE_SQL = """
WITH RECURSIVE days(n) AS (
    SELECT CAST(%(first)s AS INTEGER)
    UNION ALL
    SELECT n + 1 FROM days WHERE n < %(last)s
),
steps AS (
    SELECT id, weekdays, every_n_days,
           {start_n} AS start_n, {active_n} AS active_n
    FROM routines_routinestep
    WHERE routine_id = %(routine)s
),
scheduled AS (
    SELECT days.n AS n, steps.id AS step_id
    FROM days JOIN steps ON days.n >= steps.active_n
    WHERE (steps.weekdays IS NOT NULL AND (steps.weekdays / {pow7}) %% 2 = 1)
       OR (steps.every_n_days IS NOT NULL AND days.n >= steps.start_n
           AND (days.n - steps.start_n) %% steps.every_n_days = 0)
       OR (steps.weekdays IS NULL AND steps.every_n_days IS NULL)
),
done AS (
    SELECT {checkin_n} AS n, step_id
    FROM routines_checkin
    WHERE routine_id = %(routine)s AND date >= %(start)s AND date <= %(end)s
),
per_day AS (
    SELECT scheduled.n AS n,
           COUNT(*) AS scheduled_steps,
           COUNT(done.step_id) AS completed_steps
    FROM scheduled
    LEFT JOIN done ON done.n = scheduled.n AND done.step_id = scheduled.step_id
    GROUP BY scheduled.n
),
ranked AS (
    SELECT n, scheduled_steps, completed_steps,
           CASE WHEN completed_steps >= scheduled_steps THEN 1 ELSE 0 END AS full_day,
           ROW_NUMBER() OVER (ORDER BY n) AS rn
    FROM per_day
),
islands AS (
    SELECT grp, COUNT(*) AS length, MAX(rn) AS last_rn
    FROM (
        SELECT rn, rn - ROW_NUMBER() OVER (ORDER BY n) AS grp
        FROM ranked WHERE full_day = 1
    ) AS full_days
    GROUP BY grp
),
anchor AS (
    SELECT MAX(rn) AS rn FROM ranked
    WHERE NOT (n = %(last)s AND full_day = 0)
)
SELECT
    (SELECT COUNT(*) FROM ranked),
    (SELECT COALESCE(SUM(full_day), 0) FROM ranked),
    (SELECT COALESCE(SUM(scheduled_steps), 0) FROM ranked),
    (SELECT COALESCE(SUM(completed_steps), 0) FROM ranked),
    (SELECT COALESCE(MAX(length), 0) FROM islands),
    COALESCE((SELECT islands.length FROM islands, anchor
              WHERE islands.last_rn = anchor.rn), 0)
"""


def _weekday_bit_sql() -> str:
    """SQL for 2 ** (weekday of days.n), portable (no bit shift on integers needed)."""
    cases = " ".join(f"WHEN {d} THEN {2**d}" for d in range(7))
    return f"(CASE days.n %% 7 {cases} END)"


def adherence(*, routine: Routine, end: date, days: int) -> Adherence:
    """Completion rate and streaks over ``days`` local days ending on ``end``."""
    start = end - timedelta(days=days - 1)
    sql = ADHERENCE_SQL.format(
        start_n=f"COALESCE({_sql_day_number('start_date')}, 0)",
        active_n=_sql_day_number("active_from"),
        checkin_n=_sql_day_number("date"),
        pow7=_weekday_bit_sql(),
    )
    params = {
        "first": day_number(start),
        "last": day_number(end),
        "routine": routine.pk.hex if connection.vendor == "sqlite" else routine.pk,
        "start": start,
        "end": end,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (
            scheduled_days,
            completed_days,
            scheduled_steps,
            completed_steps,
            longest,
            current,
        ) = (int(v) for v in cursor.fetchone())
    rate = round(completed_steps / scheduled_steps, 4) if scheduled_steps else 0.0
    return Adherence(
        start=start,
        end=end,
        days=days,
        scheduled_days=int(scheduled_days),
        completed_days=int(completed_days),
        scheduled_steps=int(scheduled_steps),
        completed_steps=int(completed_steps),
        completion_rate=rate,
        current_streak=int(current),
        longest_streak=int(longest),
    )
