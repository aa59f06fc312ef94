"""Catalogue (ingredients, products) and users' routines, check-ins and reminders."""

import uuid

import orjson
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.fields.json import KeyTransform

from routines.layering import PERIODS, PRODUCT_CATEGORIES, STEP_KINDS
from routines.recommend import TEXTURES
from skincare.sync import Synced

# Day 0 of the schedule calendar of routines.conflicts: a Monday. Dates become day
# numbers counted from it, in Python and in SQL alike.
SCHEDULE_EPOCH_ISO = "2000-01-03"


def weekday_list(mask: int | None) -> list[int] | None:
    """A weekday bit mask as a sorted list (0 = Monday); None stays None."""
    if mask is None:
        return None
    return [d for d in range(7) if mask >> d & 1]


def _choices(values) -> list[tuple[str, str]]:
    return [(v, v.replace("_", " ").capitalize()) for v in values]


class StoredJSONField(models.JSONField):
    """A JSONField decoded with orjson: a page of routines reads ~100 KB of warnings.

    Same values as Django's decoder (plain JSON, no custom ``decoder``).
    """

    def from_db_value(self, value, expression, connection):
        if isinstance(value, str) and not isinstance(expression, KeyTransform):
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                pass
        return super().from_db_value(value, expression, connection)


class Ingredient(models.Model):
    """An INCI ingredient with what it does and what it treats."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    inci = models.CharField("INCI name", max_length=200, unique=True)
    common_names = models.JSONField(default=list, blank=True)
    # Vocabulary: routines.conflicts.FUNCTIONS and CONCERNS.
    functions = models.JSONField(default=list, blank=True)
    concerns = models.JSONField(default=list, blank=True)
    pregnancy_caution = models.BooleanField(default=False)
    photosensitising = models.BooleanField(default=False)
    ph_dependent = models.BooleanField(default=False)
    comedogenic_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["inci"]
        constraints = [
            models.CheckConstraint(
                condition=Q(comedogenic_rating__isnull=True)
                | Q(comedogenic_rating__lte=5),
                name="ingredient_comedogenic_0_to_5",
            )
        ]

    def __str__(self) -> str:
        return self.inci


class Product(models.Model):
    """A catalogue product with its ordered INCI list."""

    CATEGORIES = _choices(PRODUCT_CATEGORIES)
    TEXTURES = _choices(TEXTURES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=120, unique=True)
    brand = models.CharField(max_length=120)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=16, choices=CATEGORIES)
    ingredients = models.ManyToManyField(
        Ingredient, through="ProductIngredient", related_name="products"
    )
    # Any of routines.recommend.SKIN_TYPES plus "sensitive".
    skin_types = models.JSONField(default=list, blank=True)
    texture = models.CharField(max_length=16, choices=TEXTURES)
    fragrance_free = models.BooleanField(default=False)
    non_comedogenic = models.BooleanField(default=False)
    spf = models.PositiveSmallIntegerField(null=True, blank=True)
    price = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    size_ml = models.PositiveIntegerField(null=True, blank=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True, db_index=True)

    class Meta:
        ordering = ["brand", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gte=0),
                name="product_price_not_negative",
            )
        ]

    def __str__(self) -> str:
        return f"{self.brand} {self.name}"


class ProductIngredient(models.Model):
    """An ingredient's place in a product's INCI list (1 = highest concentration)."""

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="product_ingredients"
    )
    ingredient = models.ForeignKey(
        Ingredient, on_delete=models.PROTECT, related_name="in_products"
    )
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["product", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "ingredient"], name="product_ingredient_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} #{self.position} {self.ingredient_id}"


class Routine(Synced):
    """A user's AM, PM or weekly routine."""

    class Period(models.TextChoices):
        AM = "am", "Morning"
        PM = "pm", "Evening"
        WEEKLY = "weekly", "Weekly"

    class Source(models.TextChoices):
        MANUAL = "manual", "Made by the user"
        GENERATED = "generated", "Recommended"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="routines"
    )
    period = models.CharField(max_length=8, choices=Period.choices)
    name = models.CharField(max_length=120)
    # Wall-clock time in the user's time zone; null = no reminder.
    reminder_time = models.TimeField(null=True, blank=True)
    # False: steps follow the layering order; True: the user's own order is kept.
    custom_order = models.BooleanField(default=False)
    source = models.CharField(
        max_length=16, choices=Source.choices, default=Source.MANUAL
    )
    analysis = models.ForeignKey(
        "analysis.Analysis",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    notes = models.JSONField(default=list, blank=True)
    # Conflict warnings in the API's shape, computed by routines.services when the
    # user's routines, profile or the catalogue change; ``warnings_stamp`` names the
    # inputs they were computed from (see services.warnings_stamp): a stale stamp is
    # recomputed on read.
    warnings = StoredJSONField(default=list, blank=True, editable=False)
    warnings_stamp = models.CharField(
        max_length=64, blank=True, default="", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["user", "created_at"], name="routine_user_idx"),
            models.Index(fields=["user", "updated_at"], name="routine_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(period__in=PERIODS), name="routine_period_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.period})"


class RoutineStep(models.Model):
    """One step of a routine: a catalogue product or a free-text step, on a schedule.

    Schedule: ``weekdays`` (bit d set = weekday d, 0 = Monday) or ``every_n_days``
    counted from ``start_date``; neither means every day.
    """

    STEP_KINDS = _choices(STEP_KINDS)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    routine = models.ForeignKey(Routine, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    product = models.ForeignKey(
        Product,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="routine_steps",
    )
    # Free-text steps have a name and no product; product steps keep a copy of its name.
    name = models.CharField(max_length=200)
    step_kind = models.CharField(max_length=16, choices=STEP_KINDS)
    # A bit mask, so that SQL can test a weekday in adherence queries on any database.
    weekdays = models.PositiveSmallIntegerField(null=True, blank=True)
    every_n_days = models.PositiveSmallIntegerField(null=True, blank=True)
    start_date = models.DateField(null=True, blank=True)
    # The user's local date from which the step counts for adherence.
    active_from = models.DateField()
    note = models.CharField(max_length=500, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["routine", "position"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weekdays__isnull=True) | Q(every_n_days__isnull=True),
                name="step_one_schedule_kind",
            ),
            models.CheckConstraint(
                condition=Q(weekdays__isnull=True)
                | Q(weekdays__gte=1, weekdays__lte=127),
                name="step_weekdays_mask",
            ),
            models.CheckConstraint(
                condition=Q(every_n_days__isnull=True)
                | Q(every_n_days__gte=1, start_date__isnull=False),
                name="step_every_n_days_has_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.name}"

    @property
    def days_of_week(self) -> list[int] | None:
        """The weekday mask as a sorted list (0 = Monday)."""
        return weekday_list(self.weekdays)


class CheckIn(models.Model):
    """A step marked done on a local date; once per step and day."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    routine = models.ForeignKey(
        Routine, on_delete=models.CASCADE, related_name="check_ins"
    )
    step = models.ForeignKey(
        RoutineStep, on_delete=models.CASCADE, related_name="check_ins"
    )
    date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-created_at"]
        indexes = [models.Index(fields=["routine", "date"], name="checkin_routine_idx")]
        constraints = [
            models.UniqueConstraint(fields=["step", "date"], name="checkin_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.step_id} on {self.date}"


class RoutineReminder(models.Model):
    """A reminder sent for a routine on the user's local date; once a day."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    routine = models.ForeignKey(
        Routine, on_delete=models.CASCADE, related_name="reminders"
    )
    local_date = models.DateField()
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-local_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["routine", "local_date"], name="reminder_once_a_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.routine_id} on {self.local_date}"
