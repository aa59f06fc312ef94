"""Verbs of routines: write routines, generate them, check in, remind, export, erase."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import timezone

from routines import errors, selectors
from routines.catalogue_cache import catalogue_version
from routines.conflicts import (
    CONCERNS,
    RULES,
    SEVERITY_RANK,
    ConflictWarning,
    IngredientInput,
    RoutineInput,
    StepInput,
    UserContext,
    check_routine,
    check_routines,
)
from routines.layering import CATEGORY_STEP_KIND, PERIODS, sort_steps
from routines.models import (
    CheckIn,
    Ingredient,
    Product,
    Routine,
    RoutineReminder,
    RoutineStep,
)
from routines.recommend import (
    SKIN_TYPES,
    Profile,
    Recommendation,
    RecommendationError,
    recommend,
)
from routines.recommend import Product as CatalogueProduct

logger = logging.getLogger(__name__)

# The analysis engine names one concern differently from the catalogue.
ANALYSIS_CONCERN_NAMES = {"pigmentation": "dark_spots"}
GENERATED_NAMES = {"am": "Morning routine", "pm": "Evening routine", "weekly": "Weekly"}
# Positions of steps of different routines must not collide when checked together.
POSITION_STRIDE = 1000


def local_today(user, *, now: datetime | None = None) -> date:
    """Today's date in the user's time zone."""
    return (now or timezone.now()).astimezone(_zone(user)).date()


def _zone(user) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


# ------------------------------------------------------------------------------
# Models -> pure conflict / recommendation inputs
# ------------------------------------------------------------------------------
def ingredient_input(ingredient: Ingredient) -> IngredientInput:
    """The rules' view of an ingredient, built once per loaded instance."""
    cached = ingredient.__dict__.get("_input")
    if cached is None:
        cached = ingredient.__dict__["_input"] = _build_ingredient_input(ingredient)
    return cached


def _build_ingredient_input(ingredient: Ingredient) -> IngredientInput:
    return IngredientInput(
        inci=ingredient.inci,
        functions=frozenset(ingredient.functions or ()),
        common_names=tuple(ingredient.common_names or ()),
        photosensitising=ingredient.photosensitising,
        pregnancy_caution=ingredient.pregnancy_caution,
        concerns=frozenset(ingredient.concerns or ()),
        comedogenic_rating=ingredient.comedogenic_rating,
    )


def product_ingredients(product: Product) -> tuple[IngredientInput, ...]:
    """A product's ingredients in INCI order (uses the selectors' prefetch)."""
    return tuple(
        ingredient_input(pi.ingredient) for pi in product.product_ingredients.all()
    )


def catalogue_product(product: Product) -> CatalogueProduct:
    return CatalogueProduct(
        slug=product.slug,
        brand=product.brand,
        name=product.name,
        category=product.category,
        ingredients=product_ingredients(product),
        skin_types=frozenset(product.skin_types or ()),
        texture=product.texture,
        fragrance_free=product.fragrance_free,
        non_comedogenic=product.non_comedogenic,
        spf=product.spf,
        price=product.price,
        currency=product.currency,
        size_ml=product.size_ml,
    )


def load_db_catalogue() -> list[CatalogueProduct]:
    """The active catalogue as recommendation input, sorted by slug."""
    products = [catalogue_product(p) for p in selectors.active_products()]
    return sorted(products, key=lambda p: p.slug)


def schedule_offset(start: date | None, every_n_days: int | None) -> int:
    """``StepInput.start_offset`` of an every-n-days step starting on ``start``."""
    if every_n_days is None or start is None:
        return 0
    return selectors.day_number(start) % every_n_days


def step_input(step: RoutineStep, position: int) -> StepInput:
    product = step.product
    days = step.days_of_week
    return StepInput(
        position=position,
        step_kind=step.step_kind,
        product_name=step.name,
        ingredients=product_ingredients(product) if product else (),
        product_slug=product.slug if product else None,
        days_of_week=frozenset(days) if days is not None else None,
        every_n_days=step.every_n_days,
        start_offset=schedule_offset(step.start_date, step.every_n_days),
    )


def user_context(user) -> UserContext:
    """Sensitivities count as allergies; pregnancy and breastfeeding alike."""
    return UserContext(
        allergies=frozenset(str(s).lower() for s in user.sensitivities or ()),
        pregnant=bool(user.pregnant_or_breastfeeding),
    )


@dataclass(frozen=True)
class RoutineWarning:
    """A conflict warning with the ids of the steps it concerns."""

    warning: ConflictWarning
    step_ids: tuple[str, ...]


def routine_warnings(
    *, user, routines: Sequence[Routine]
) -> dict[Any, list[RoutineWarning]]:
    """Warnings per routine id, the user's routines checked together.

    Each routine gets its own warnings plus every cross-routine warning (AM acid with
    PM retinoid, PM with weekly) that names one of its steps.
    """
    context = user_context(user)
    by_position: dict[int, tuple[Routine, RoutineStep]] = {}
    inputs: list[tuple[Routine, RoutineInput]] = []
    for index, routine in enumerate(routines):
        steps = []
        for step in routine.steps.all():
            position = index * POSITION_STRIDE + step.position
            by_position[position] = (routine, step)
            steps.append(step_input(step, position))
        inputs.append((routine, RoutineInput(routine.period, tuple(steps))))

    def located(warning: ConflictWarning) -> RoutineWarning:
        ids = tuple(str(by_position[p][1].pk) for p in warning.positions)
        return RoutineWarning(warning, ids)

    result: dict[Any, list[RoutineWarning]] = {r.pk: [] for r in routines}
    own: set[ConflictWarning] = set()
    for routine, routine_input in inputs:
        found = check_routine(routine_input, context)
        own.update(found)
        result[routine.pk] = [located(w) for w in found]
    for warning in check_routines([i for _, i in inputs], context):
        if warning in own:
            continue
        owners = {by_position[p][0].pk for p in warning.positions}
        for owner in owners:
            result[owner].append(located(warning))
    return result


# ------------------------------------------------------------------------------
# Stored warnings
# ------------------------------------------------------------------------------
# Bump when the rules' code in routines.conflicts or the stored shape changes: every
# stored warning then counts as stale. The rules' data is in the digest already.
WARNINGS_FORMAT = 1
RULES_DIGEST = hashlib.sha256(
    json.dumps(
        [WARNINGS_FORMAT]
        + [
            [r.code, r.severity, r.reason, r.advice, sorted(r.first), sorted(r.second)]
            for r in RULES
        ]
    ).encode()
).hexdigest()
# Profile fields the rules read (user_context); see profile_changed.
PROFILE_FIELDS = frozenset({"sensitivities", "pregnant_or_breastfeeding"})


def warning_data(item: RoutineWarning) -> dict[str, Any]:
    """A warning as stored on the routine and answered by the API."""
    w = item.warning
    return {
        "code": w.code,
        "severity": w.severity,
        "reason": w.reason,
        "advice": w.advice,
        "period": w.period,
        "steps": list(item.step_ids),
        "product_slugs": [s for s in w.product_slugs if s],
        "ingredients": list(w.ingredients),
    }


def warnings_stamp(user, *, version: str | None = None) -> str:
    """What stored warnings depend on besides the routines themselves.

    The catalogue version (routines.catalogue_cache: bumped on every catalogue
    write), the rules and the user's sensitivities and pregnancy flag.
    """
    context = user_context(user)
    inputs = [RULES_DIGEST, sorted(context.allergies), context.pregnant]
    digest = hashlib.sha256(json.dumps(inputs).encode()).hexdigest()[:24]
    return f"{version or catalogue_version()}:{digest}"


def _lock_user(user):
    """Lock the user's row: the user's routine writes and warning refreshes queue.

    FOR NO KEY UPDATE, so rows referencing the user (notifications, ...) can still
    be inserted meanwhile.
    """
    return type(user).objects.select_for_update(no_key=True).get(pk=user.pk)


@transaction.atomic
def refresh_warnings(*, user) -> None:
    """Compute and store the warnings of all the user's routines, checked together.

    Cross-routine warnings (AM acid with PM retinoid) depend on every routine, so a
    change of one routine recomputes them all. Under the user's row lock, after the
    write it follows: the last writer computes from everything committed before it.
    """
    user = _lock_user(user)
    # Read before the rows: a catalogue write meanwhile leaves the stamp stale.
    stamp = warnings_stamp(user)
    routines = list(selectors.routines_to_check(user=user))
    found = routine_warnings(user=user, routines=routines)
    for routine in routines:
        ordered = sorted(
            found[routine.pk], key=lambda w: -SEVERITY_RANK[w.warning.severity]
        )
        routine.warnings = [warning_data(w) for w in ordered]
        routine.warnings_stamp = stamp
    Routine.objects.bulk_update(routines, ["warnings", "warnings_stamp"])


def routines_with_warnings(*, user, routines: Iterable[Routine]) -> list[Routine]:
    """``routines`` of the user (from selectors.routines_for) with current warnings.

    Reading costs no rule evaluation while the stored stamps are current. When one
    is stale (the catalogue or the rules changed, the profile was changed outside
    ``update_profile``, rows were written outside these services) all the user's
    warnings are recomputed once and the routines read again.
    """
    routines = list(routines)
    stamp = warnings_stamp(user)
    if all(r.warnings_stamp == stamp for r in routines):
        return routines
    refresh_warnings(user=user)
    fresh = selectors.routines_for(user=user).in_bulk([r.pk for r in routines])
    return [fresh[r.pk] for r in routines if r.pk in fresh]


def profile_changed(*, user, fields: Iterable[str]) -> None:
    """On accounts.signals.profile_changed (routines.signals): rules read it."""
    if PROFILE_FIELDS & set(fields):
        refresh_warnings(user=user)


# ------------------------------------------------------------------------------
# Writing routines
# ------------------------------------------------------------------------------
def _weekday_mask(days: Iterable[int] | None) -> int | None:
    if days is None:
        return None
    mask = 0
    for day in days:
        mask |= 1 << day
    return mask or None


def _resolve_products(
    steps_data: Sequence[Mapping], existing: Mapping[Any, RoutineStep]
) -> dict[Any, Product]:
    wanted = {s["product"] for s in steps_data if s.get("product")}
    products = {p.pk: p for p in Product.objects.filter(pk__in=wanted)}
    for data in steps_data:
        pk = data.get("product")
        if not pk:
            continue
        product = products.get(pk)
        previous = existing.get(data.get("id"))
        kept = previous is not None and previous.product_id == pk
        if product is None or not (product.is_active or kept):
            raise errors.UnknownProduct(f"No product with id {pk} in the catalogue.")
    return products


def _write_steps(
    routine: Routine, steps_data: Sequence[Mapping], *, today: date
) -> None:
    """Make the routine's steps exactly ``steps_data`` (ids keep their history)."""
    existing = {s.pk: s for s in routine.steps.all()}
    products = _resolve_products(steps_data, existing)
    kept, new = [], []
    for order, data in enumerate(steps_data, start=1):
        step_id = data.get("id")
        if step_id is not None:
            step = existing.get(step_id)
            if step is None:
                raise errors.UnknownStep(f"Step {step_id} is not in this routine.")
            kept.append(step)
        else:
            step = RoutineStep(routine=routine, active_from=today)
            new.append(step)
        product = products.get(data.get("product")) if data.get("product") else None
        step.product = product
        step.name = data.get("name") or (product.name if product else "")
        step.step_kind = data.get("step_kind") or CATEGORY_STEP_KIND[product.category]
        step.weekdays = _weekday_mask(data.get("days_of_week"))
        step.every_n_days = data.get("every_n_days")
        step.start_date = data.get("start_date") or today if step.every_n_days else None
        step.note = data.get("note", "")
        step.position = order
    if len({s.pk for s in kept}) != len(kept):
        raise errors.UnknownStep("A step id appears twice.")
    RoutineStep.objects.filter(routine=routine).exclude(
        pk__in=[s.pk for s in kept]
    ).delete()
    _renumber(routine, [*kept, *new], in_given_order=True)
    RoutineStep.objects.bulk_update(
        kept,
        [
            "product",
            "name",
            "step_kind",
            "weekdays",
            "every_n_days",
            "start_date",
            "note",
            "position",
        ],
    )
    RoutineStep.objects.bulk_create(new)


def _renumber(
    routine: Routine, steps: list[RoutineStep], *, in_given_order: bool
) -> list[RoutineStep]:
    """Positions 1..n: the user's order if custom, else the layering order."""
    ordered = sorted(steps, key=lambda s: s.position) if in_given_order else steps
    if not routine.custom_order:
        ordered = sort_steps(ordered)
    for position, step in enumerate(ordered, start=1):
        step.position = position
    return ordered


@transaction.atomic
def create_routine(*, user, data: Mapping, now: datetime | None = None) -> Routine:
    """Create a routine with its steps; conflicts are reported, never refused."""
    _lock_user(user)  # also makes the count below race-free
    if Routine.objects.filter(user=user).count() >= settings.ROUTINES_MAX_PER_USER:
        raise errors.TooManyRoutines()
    routine = Routine.objects.create(
        user=user,
        period=data["period"],
        name=data["name"],
        reminder_time=data.get("reminder_time"),
        custom_order=data.get("custom_order", False),
    )
    _write_steps(routine, data.get("steps", []), today=local_today(user, now=now))
    refresh_warnings(user=user)
    return routine


@transaction.atomic
def update_routine(
    *,
    routine: Routine,
    data: Mapping,
    replace: bool = False,
    now: datetime | None = None,
) -> Routine:
    """Change a routine; ``steps`` given replaces the list (ids keep a step).

    ``replace``: ``data`` is the whole routine, so what it leaves out is cleared:
    no reminder, the layering order, no steps.
    """
    if replace:
        data = {"reminder_time": None, "custom_order": False, "steps": [], **data}
    _lock_user(routine.user)
    routine = Routine.objects.select_for_update().get(pk=routine.pk)
    fields = [
        f for f in ("period", "name", "reminder_time", "custom_order") if f in data
    ]
    for name in fields:
        setattr(routine, name, data[name])
    routine.save(update_fields=[*fields, "updated_at"])
    if "steps" in data:
        _write_steps(routine, data["steps"], today=local_today(routine.user, now=now))
    elif data.get("custom_order") is False:
        steps = list(routine.steps.all())
        RoutineStep.objects.bulk_update(
            _renumber(routine, steps, in_given_order=True), ["position"]
        )
    refresh_warnings(user=routine.user)
    return routine


@transaction.atomic
def delete_routine(*, routine: Routine) -> None:
    """Delete a routine with its steps, check-ins and reminders."""
    user = _lock_user(routine.user)
    routine.delete()
    refresh_warnings(user=user)


# ------------------------------------------------------------------------------
# Generating routines
# ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Generated:
    routines: list[Routine]
    focus: tuple[str, ...]
    notes: tuple[str, ...]
    analysis_id: Any


def profile_for(*, user, analysis) -> Profile:
    """The recommendation profile: analysis first, the declared profile filling in."""
    declared = user.declared_skin_type if user.declared_skin_type in SKIN_TYPES else ""
    summary = (analysis.profile or {}) if analysis else {}
    measured = analysis.skin_type if analysis else ""
    skin_type = measured if measured in SKIN_TYPES else declared or "normal"
    scores: dict[str, int] = {}
    for concern, value in ((analysis.scores or {}) if analysis else {}).items():
        name = ANALYSIS_CONCERN_NAMES.get(concern, concern)
        score = value.get("score") if isinstance(value, Mapping) else value
        if name in CONCERNS and isinstance(score, int | float):
            scores[name] = int(score)
    declared_concerns = {
        ANALYSIS_CONCERN_NAMES.get(c, c)
        for c in [*(user.concerns or ()), *(summary.get("concerns") or ())]
    }
    return Profile(
        skin_type=skin_type,
        sensitive=bool(summary.get("sensitive")) or "sensitivity" in declared_concerns,
        concern_scores=scores,
        declared_concerns=frozenset(declared_concerns & set(CONCERNS)),
        excluded_ingredients=frozenset(
            str(s).lower() for s in user.sensitivities or ()
        ),
        pregnant=bool(user.pregnant_or_breastfeeding),
    )


def _analysis_for(*, user, analysis_id):
    from analysis import selectors as analyses

    if analysis_id is None:
        return analyses.latest_completed_analysis(user=user)
    analysis = analyses.completed_analysis(user=user, analysis_id=analysis_id)
    if analysis is None:
        raise errors.AnalysisNotUsable()
    return analysis


def generate_routines(*, user, analysis_id=None, now: datetime | None = None):
    """Build and save recommended AM, PM (and weekly) routines.

    The new routines replace the user's previously generated ones (their check-ins
    go with them); routines the user made are kept. A reminder time set on a
    replaced routine carries over to the new routine of the same period.
    """
    analysis = _analysis_for(user=user, analysis_id=analysis_id)
    if analysis is None and user.declared_skin_type not in SKIN_TYPES:
        raise errors.NoAnalysis()
    profile = profile_for(user=user, analysis=analysis)
    catalogue = load_db_catalogue()
    try:
        recommendation = recommend(profile, catalogue)
    except RecommendationError as exc:
        raise errors.RecommendationFailed() from exc
    today = local_today(user, now=now)
    with transaction.atomic():
        # One generation per user at a time: the second waits and replaces the first.
        _lock_user(user)
        routines = _save_recommendation(user, recommendation, analysis, today)
        refresh_warnings(user=user)
    return Generated(
        routines=routines,
        focus=recommendation.focus,
        notes=recommendation.notes,
        analysis_id=analysis.pk if analysis else None,
    )


def _save_recommendation(
    user, recommendation: Recommendation, analysis, today: date
) -> list[Routine]:
    previous = Routine.objects.filter(user=user, source=Routine.Source.GENERATED)
    reminders = {
        period: reminder
        for period, reminder in previous.exclude(reminder_time=None).values_list(
            "period", "reminder_time"
        )
    }
    previous.delete()
    slugs = {s.product_slug for p in PERIODS for s in getattr(recommendation, p)}
    products = {p.slug: p for p in Product.objects.filter(slug__in=slugs)}
    routines = []
    for period in PERIODS:
        recommended = getattr(recommendation, period)
        if not recommended:
            continue
        routine = Routine.objects.create(
            user=user,
            period=period,
            name=GENERATED_NAMES[period],
            reminder_time=reminders.get(period),
            source=Routine.Source.GENERATED,
            analysis=analysis,
            notes=list(recommendation.notes),
        )
        RoutineStep.objects.bulk_create(
            RoutineStep(
                routine=routine,
                position=step.position,
                product=products[step.product_slug],
                name=step.product_name,
                step_kind=step.step_kind,
                weekdays=_weekday_mask(step.days_of_week),
                every_n_days=step.every_n_days,
                start_date=today if step.every_n_days else None,
                active_from=today,
                reason=step.reason,
            )
            for step in recommended
        )
        routines.append(routine)
    return routines


# ------------------------------------------------------------------------------
# Check-ins
# ------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckInResult:
    date: date
    created: int
    check_ins: list[CheckIn]


@transaction.atomic
def check_in(
    *,
    routine: Routine,
    step_ids: Sequence[Any],
    day: date | None = None,
    now: datetime | None = None,
) -> CheckInResult:
    """Mark steps done on a local day; repeating it changes nothing."""
    today = local_today(routine.user, now=now)
    day = day or today
    if day > today:
        raise errors.DateInFuture()
    if day < today - timedelta(days=settings.ROUTINES_CHECKIN_MAX_DAYS_BACK):
        raise errors.DateTooOld(
            "You can check in for the last "
            f"{settings.ROUTINES_CHECKIN_MAX_DAYS_BACK} days only."
        )
    wanted = set(step_ids)
    owned = set(
        RoutineStep.objects.filter(routine=routine, pk__in=wanted).values_list(
            "pk", flat=True
        )
    )
    if owned != wanted:
        raise errors.UnknownStep("A step id does not belong to this routine.")
    before = CheckIn.objects.filter(routine=routine, date=day, step__in=wanted)
    already = set(before.values_list("step_id", flat=True))
    CheckIn.objects.bulk_create(
        [
            CheckIn(routine=routine, step_id=step_id, date=day)
            for step_id in sorted(wanted - already, key=str)
        ],
        ignore_conflicts=True,
    )
    rows = list(CheckIn.objects.filter(routine=routine, date=day).order_by("step_id"))
    return CheckInResult(date=day, created=len(wanted - already), check_ins=rows)


# ------------------------------------------------------------------------------
# Reminders
# ------------------------------------------------------------------------------
@dataclass
class ReminderSummary:
    considered: int = 0
    sent: int = 0
    already_sent: int = 0
    checked_in: int = 0
    nothing_scheduled: int = 0
    failed: int = 0
    failed_ids: list[str] = field(default_factory=list)


def reminder_due_at(local_date: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC moment a wall-clock reminder time falls on ``local_date``.

    A time skipped by a spring-forward change resolves (fold=0, the offset before the
    change) to the moment the clocks jumped past it, so it still fires that day; a
    time repeated by a fall-back change resolves to its first occurrence.
    """
    wall = datetime.combine(local_date, at.replace(tzinfo=None, fold=0))
    return wall.replace(tzinfo=zone).astimezone(UTC)


def steps_scheduled_on(steps: Iterable[RoutineStep], day: date) -> int:
    """How many of the steps run on ``day`` (same rules as the adherence SQL)."""
    n = selectors.day_number(day)
    count = 0
    for step in steps:
        if step.active_from > day:
            continue
        if step.weekdays is not None:
            count += step.weekdays >> (n % 7) & 1
        elif step.every_n_days is not None:
            start = selectors.day_number(step.start_date or step.active_from)
            count += int(n >= start and (n - start) % step.every_n_days == 0)
        else:
            count += 1
    return count


def _reminder_candidates(now: datetime):
    """Routines with a reminder time of active users, with what deciding needs.

    Reminders and check-ins of the last two UTC days only: enough to know about
    the local day of any time zone.
    """
    recent = now.astimezone(UTC).date() - timedelta(days=1)
    return (
        Routine.objects.filter(
            reminder_time__isnull=False,
            user__is_active=True,
            user__deleted_at__isnull=True,
        )
        .select_related("user")
        .prefetch_related(
            "steps",
            Prefetch(
                "reminders",
                queryset=RoutineReminder.objects.filter(local_date__gte=recent),
                to_attr="recent_reminders",
            ),
            Prefetch(
                "check_ins",
                queryset=CheckIn.objects.filter(date__gte=recent).only(
                    "id", "routine_id", "date"
                ),
                to_attr="recent_check_ins",
            ),
        )
        .order_by("id")
    )


def _reminder_due(routine: Routine, now: datetime) -> date | None:
    """The routine's local date if its reminder falls due within the grace period."""
    zone = _zone(routine.user)
    local_date = now.astimezone(zone).date()
    due = reminder_due_at(local_date, routine.reminder_time, zone)
    grace = timedelta(minutes=settings.ROUTINES_REMINDER_GRACE_MINUTES)
    return local_date if due <= now <= due + grace else None


def _skip_reason(routine: Routine, local_date: date) -> str | None:
    """Which ReminderSummary counter a routine not to remind goes to, if any."""
    if any(r.local_date == local_date for r in routine.recent_reminders):
        return "already_sent"
    if any(c.date == local_date for c in routine.recent_check_ins):
        return "checked_in"
    if steps_scheduled_on(routine.steps.all(), local_date) == 0:
        return "nothing_scheduled"
    return None


def send_routine_reminders(
    *, now: datetime | None = None, dry_run: bool = False
) -> ReminderSummary:
    """Remind each routine whose time has passed today, locally, once per local day.

    Safe to run twice or overlapping: the RoutineReminder row (unique per routine and
    local date) is inserted in the same transaction as the notification.
    """
    from notifications.services import notify

    now = now or timezone.now()
    summary = ReminderSummary()
    for routine in _reminder_candidates(now).iterator(chunk_size=500):
        local_date = _reminder_due(routine, now)
        if local_date is None:
            continue
        summary.considered += 1
        skip = _skip_reason(routine, local_date)
        if skip is not None:
            setattr(summary, skip, getattr(summary, skip) + 1)
            continue
        if dry_run:
            summary.sent += 1
            continue
        steps_count = steps_scheduled_on(routine.steps.all(), local_date)
        try:
            sent = _remind(routine, local_date, steps_count, now, notify)
        except Exception:
            logger.exception("could not remind routine %s", routine.pk)
            summary.failed += 1
            summary.failed_ids.append(str(routine.pk))
            continue
        if sent:
            summary.sent += 1
        else:
            summary.already_sent += 1
    return summary


def _remind(routine: Routine, local_date: date, steps_count: int, now, notify) -> bool:
    with transaction.atomic():
        try:
            with transaction.atomic():
                RoutineReminder.objects.create(
                    routine=routine, local_date=local_date, sent_at=now
                )
        except IntegrityError:
            return False  # another run got there first
        notify(
            user=routine.user,
            kind="routine_reminder",
            context={
                "routine_name": routine.name,
                "steps_count": steps_count,
                "routine_id": str(routine.pk),
                "period": routine.period,
                "local_date": local_date.isoformat(),
            },
            idempotency_key=f"routine-reminder:{routine.pk}:{local_date.isoformat()}",
        )
    return True


# ------------------------------------------------------------------------------
# Data lifecycle (accounts.lifecycle)
# ------------------------------------------------------------------------------
def export_user_data(*, user) -> dict[str, list[dict[str, Any]]]:
    """Every routine, step, check-in and reminder of the user, as JSON-safe rows."""
    from accounts.lifecycle import export_rows

    return {
        "routines.Routine": export_rows(
            Routine.objects.filter(user=user), exclude=("warnings_stamp",)
        ),
        "routines.RoutineStep": export_rows(
            RoutineStep.objects.filter(routine__user=user).order_by(
                "routine", "position"
            )
        ),
        "routines.CheckIn": export_rows(CheckIn.objects.filter(routine__user=user)),
        "routines.RoutineReminder": export_rows(
            RoutineReminder.objects.filter(routine__user=user)
        ),
    }


@transaction.atomic
def erase_user_data(*, user) -> None:
    """Delete the user's routines; steps, check-ins and reminders go with them."""
    Routine.objects.filter(user=user).delete()
