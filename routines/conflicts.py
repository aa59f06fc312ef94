"""Ingredient conflict rules for skincare routines (pure Python, no Django).

Vocabulary of ingredient ``functions`` (what an ingredient does in a formula):

- actives: ``exfoliant_aha``, ``exfoliant_bha``, ``exfoliant_pha``, ``retinoid``,
  ``benzoyl_peroxide``, ``vitamin_c``, ``azelaic_acid``, ``niacinamide``, ``peptide``
- benefits: ``humectant``, ``emollient``, ``occlusive``, ``uv_filter``, ``antioxidant``,
  ``soothing``, ``brightening``, ``antibacterial``, ``barrier_repair``, ``absorbent``
- formula: ``surfactant``, ``preservative``, ``fragrance``, ``solvent``, ``emulsifier``,
  ``thickener``, ``ph_adjuster``, ``chelating``, ``colorant``

Schedules: a step with neither ``days_of_week`` nor ``every_n_days`` runs every day.
``days_of_week`` uses 0 = Monday .. 6 = Sunday. ``every_n_days`` runs on day
``start_offset`` and every n days after it, counting days from a Monday (day 0), so the
two kinds of schedule share one calendar. Two steps conflict only if some day has both.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from operator import attrgetter
from typing import Literal

from routines.layering import PERIODS, is_in_layering_order

Severity = Literal["info", "warning", "severe"]
Period = Literal["am", "pm", "weekly"]

FUNCTIONS: Mapping[str, str] = {
    "exfoliant_aha": "alpha hydroxy acid: glycolic, lactic, mandelic",
    "exfoliant_bha": "beta hydroxy acid: salicylic acid",
    "exfoliant_pha": "polyhydroxy acid: gluconolactone, lactobionic acid",
    "retinoid": "vitamin A derivative: retinol, retinal, retinoate esters",
    "benzoyl_peroxide": "benzoyl peroxide, an oxidising antibacterial",
    "vitamin_c": "ascorbic acid or a derivative",
    "azelaic_acid": "azelaic acid",
    "niacinamide": "vitamin B3",
    "peptide": "signal or neurotransmitter peptide",
    "humectant": "draws water into the skin",
    "emollient": "softens and smooths",
    "occlusive": "seals water in",
    "uv_filter": "absorbs or reflects UV",
    "antioxidant": "neutralises free radicals",
    "soothing": "calms redness and irritation",
    "brightening": "fades pigmentation",
    "antibacterial": "reduces acne bacteria",
    "barrier_repair": "restores skin lipids",
    "absorbent": "absorbs oil (clays, silica)",
    "surfactant": "cleanses",
    "preservative": "keeps the formula free of microbes",
    "fragrance": "perfume or essential oil",
    "solvent": "dissolves other ingredients",
    "emulsifier": "binds oil and water",
    "thickener": "gives body or gel texture",
    "ph_adjuster": "sets the pH",
    "chelating": "binds metal ions",
    "colorant": "tints the product",
}
CONCERNS: tuple[str, ...] = (
    "redness",
    "shine",
    "texture",
    "dark_spots",
    "lines",
    "dark_circles",
    "blemishes",
    "dryness",
    "sensitivity",
)
SEVERITY_RANK: Mapping[str, int] = {"info": 0, "warning": 1, "severe": 2}
EXFOLIANTS = frozenset({"exfoliant_aha", "exfoliant_bha", "exfoliant_pha"})
STRONG_ACIDS = frozenset({"exfoliant_aha", "exfoliant_bha"})
PHOTOSENSITISING_FUNCTIONS = frozenset({"exfoliant_aha", "retinoid"})
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_HORIZON_DAYS = 728  # two years of 52 weeks: long enough for any sane schedule


@dataclass(frozen=True)
class IngredientInput:
    """One ingredient of a product, as the rules see it."""

    inci: str
    functions: frozenset[str] = frozenset()
    common_names: tuple[str, ...] = ()
    photosensitising: bool = False
    pregnancy_caution: bool = False
    concerns: frozenset[str] = frozenset()
    comedogenic_rating: int | None = None

    @cached_property
    def names(self) -> frozenset[str]:
        """Lowercased INCI and common names."""
        return frozenset({self.inci.lower(), *(n.lower() for n in self.common_names)})

    def matches(self, names: Iterable[str]) -> bool:
        """Whether a lowercased INCI, common name or function name refers to this."""
        return any(n in self.names or n in self.functions for n in names)


@dataclass(frozen=True)
class StepInput:
    """One step of a routine: a product applied on a schedule."""

    position: int
    step_kind: str
    product_name: str
    ingredients: tuple[IngredientInput, ...] = ()
    product_slug: str | None = None
    days_of_week: frozenset[int] | None = None
    every_n_days: int | None = None
    start_offset: int = 0

    def __post_init__(self) -> None:
        """Reject schedules that cannot be read one way only."""
        if self.days_of_week is not None and self.every_n_days is not None:
            raise ValueError("a step has days_of_week or every_n_days, not both")
        if self.days_of_week is not None and not set(self.days_of_week) <= set(
            range(7)
        ):
            raise ValueError("days_of_week holds 0 (Monday) to 6 (Sunday)")
        if self.every_n_days is not None and self.every_n_days < 1:
            raise ValueError("every_n_days is at least 1")

    @property
    def functions(self) -> frozenset[str]:
        """Union of the functions of the step's ingredients."""
        return frozenset().union(*(i.functions for i in self.ingredients))

    def runs_on(self, day: int) -> bool:
        """Whether the step is scheduled on day index ``day`` (day 0 is a Monday)."""
        if self.days_of_week is not None:
            return day % 7 in self.days_of_week
        if self.every_n_days is not None:
            return (day - self.start_offset) % self.every_n_days == 0
        return True

    def schedule_label(self) -> str:
        """Human-readable schedule, e.g. 'Mon, Wed, Fri' or 'every 2 days'."""
        if self.days_of_week is not None:
            return ", ".join(DAY_NAMES[d] for d in sorted(self.days_of_week))
        if self.every_n_days is not None and self.every_n_days > 1:
            return f"every {self.every_n_days} days"
        return "daily"


@dataclass(frozen=True)
class RoutineInput:
    """An AM, PM or weekly routine: ordered steps."""

    period: Period
    steps: tuple[StepInput, ...]


@dataclass(frozen=True)
class UserContext:
    """What about the user changes the rules: allergies (lowercased) and pregnancy."""

    allergies: frozenset[str] = frozenset()
    pregnant: bool | None = None


@dataclass(frozen=True)
class ConflictWarning:
    """One finding about a routine; ``positions`` are step positions it concerns."""

    code: str
    severity: Severity
    reason: str
    advice: str
    period: str
    positions: tuple[int, ...] = ()
    product_slugs: tuple[str, ...] = ()
    ingredients: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """A conflict rule; pair rules name the functions of two steps on the same day."""

    code: str
    severity: Severity
    reason: str
    advice: str
    first: frozenset[str] = field(default=frozenset())
    second: frozenset[str] = field(default=frozenset())


_ACIDS = frozenset({"exfoliant_aha", "exfoliant_bha"})

RULES: tuple[Rule, ...] = (
    # Pair rules: two different steps that can fall on the same day.
    Rule(
        "retinoid_with_acid",
        "severe",
        "{first} (retinoid) and {second} (AHA/BHA) can be used on the same day; "
        "together they over-exfoliate and damage the skin barrier.",
        "Use them on alternate days, e.g. retinoid Mon/Wed/Fri and acid Tue/Sat.",
        frozenset({"retinoid"}),
        _ACIDS,
    ),
    Rule(
        "benzoyl_peroxide_with_retinoid",
        "severe",
        "{first} (benzoyl peroxide) can oxidise and deactivate {second} (retinoid) "
        "and the pair is very irritating.",
        "Use benzoyl peroxide in the morning and the retinoid at night.",
        frozenset({"benzoyl_peroxide"}),
        frozenset({"retinoid"}),
    ),
    Rule(
        "benzoyl_peroxide_with_vitamin_c",
        "warning",
        "{first} (benzoyl peroxide) oxidises the vitamin C in {second}.",
        "Use them at different times of day or on different days.",
        frozenset({"benzoyl_peroxide"}),
        frozenset({"vitamin_c"}),
    ),
    Rule(
        "vitamin_c_with_acid",
        "info",
        "{first} (vitamin C) and {second} (AHA/BHA) together may sting.",
        "If it stings, move the acid to the evening.",
        frozenset({"vitamin_c"}),
        _ACIDS,
    ),
    # Whole-routine rules.
    Rule(
        "exfoliants_stacked",
        "warning",
        "{count} exfoliating steps can fall on the same day: {products}.",
        "Keep one exfoliant per day; alternate the others.",
    ),
    Rule(
        "exfoliants_overload",
        "severe",
        "{count} exfoliating steps can fall on the same day: {products}.",
        "Use one exfoliant per day at most and give the skin rest days.",
    ),
    Rule(
        "duplicate_active",
        "warning",
        "{products} both contain a {function} and can be used on the same day.",
        "Keep one {function} product per day.",
    ),
    Rule(
        "retinoid_in_am",
        "warning",
        "{product} contains a retinoid, which sunlight breaks down.",
        "Move it to your evening routine.",
    ),
    Rule(
        "photosensitiser_without_sunscreen",
        "severe",
        "{product} contains {ingredient}, which makes skin more sensitive to the "
        "sun, and this morning routine has no sunscreen.",
        "Add a broad-spectrum SPF 30+ as the last morning step, or move it to night.",
    ),
    Rule(
        "am_without_spf",
        "warning",
        "This morning routine has no sunscreen.",
        "Finish every morning with a broad-spectrum SPF 30 or higher.",
    ),
    Rule(
        "sunscreen_not_last",
        "warning",
        "{product} (sunscreen) is not the last morning step; layers on top of it "
        "weaken its protection.",
        "Apply sunscreen last, after moisturiser.",
    ),
    Rule(
        "layering_order",
        "info",
        "The steps are not in the usual layering order.",
        "Apply from thinnest to thickest: cleanse, mask, tone, serum, treat, eye, "
        "moisturise, oil, then sunscreen in the morning.",
    ),
    Rule(
        "allergen_present",
        "severe",
        "{product} contains {ingredient}, which you listed as an allergy or "
        "sensitivity.",
        "Remove this product or replace it with one without {ingredient}.",
    ),
    Rule(
        "pregnancy_caution",
        "severe",
        "{product} contains {ingredient}, which is not advised during pregnancy.",
        "Pause this product while pregnant or breastfeeding and ask your doctor.",
    ),
    # Across a user's routines.
    Rule(
        "acid_am_retinoid_pm",
        "warning",
        "{first} (AHA/BHA) in the morning and {second} (retinoid) at night can fall "
        "on the same day.",
        "Move the acid to non-retinoid evenings.",
        _ACIDS,
        frozenset({"retinoid"}),
    ),
)
RULES_BY_CODE: Mapping[str, Rule] = {rule.code: rule for rule in RULES}
PAIR_CODES = (
    "retinoid_with_acid",
    "benzoyl_peroxide_with_retinoid",
    "benzoyl_peroxide_with_vitamin_c",
    "vitamin_c_with_acid",
)
DUPLICATE_FUNCTIONS = ("retinoid", "benzoyl_peroxide")


def _warn(
    code: str,
    period: str,
    steps: Sequence[StepInput] = (),
    ingredients: Sequence[str] = (),
    **values: object,
) -> ConflictWarning:
    """Build a warning from the rule table, filling its templates."""
    rule = RULES_BY_CODE[code]
    return ConflictWarning(
        code=code,
        severity=rule.severity,
        reason=rule.reason.format(**values),
        advice=rule.advice.format(**values),
        period=period,
        positions=tuple(s.position for s in steps),
        product_slugs=tuple(s.product_slug or "" for s in steps),
        ingredients=tuple(ingredients),
    )


def _horizon(steps: Iterable[StepInput]) -> int:
    """Days after which every schedule in ``steps`` repeats (capped)."""
    days = 7
    for step in steps:
        if step.every_n_days is not None:
            days = math.lcm(days, step.every_n_days)
    return min(days, MAX_HORIZON_DAYS)


def _days(step: StepInput, horizon: int) -> frozenset[int]:
    """Day indices within the horizon on which the step runs."""
    return frozenset(d for d in range(horizon) if step.runs_on(d))


def share_a_day(first: StepInput, second: StepInput) -> bool:
    """Whether two steps can fall on the same day."""
    horizon = _horizon((first, second))
    return bool(_days(first, horizon) & _days(second, horizon))


def _names(steps: Iterable[StepInput]) -> str:
    """Product names joined for a message."""
    return ", ".join(s.product_name for s in steps)


def _pair_warnings(
    period: str,
    firsts: Sequence[StepInput],
    seconds: Sequence[StepInput],
    codes: Iterable[str],
) -> list[ConflictWarning]:
    """Pair rules between steps of ``firsts`` and different steps of ``seconds``."""
    found = []
    for code in codes:
        rule = RULES_BY_CODE[code]
        seen: set[frozenset[int]] = set()
        for a in firsts:
            if not a.functions & rule.first:
                continue
            for b in seconds:
                pair = frozenset((id(a), id(b)))
                if a is b or pair in seen or not b.functions & rule.second:
                    continue
                if share_a_day(a, b):
                    seen.add(pair)
                    names = {"first": a.product_name, "second": b.product_name}
                    found.append(_warn(code, period, (a, b), **names))
    return found


def _stacking_warnings(
    period: str, steps: Sequence[StepInput]
) -> list[ConflictWarning]:
    """Too many exfoliating steps on one day."""
    exfoliating = [s for s in steps if s.functions & EXFOLIANTS]
    if len(exfoliating) < 2:
        return []
    horizon = _horizon(exfoliating)
    worst: tuple[StepInput, ...] = ()
    for day in range(horizon):
        today = tuple(s for s in exfoliating if s.runs_on(day))
        if len(today) > len(worst):
            worst = today
    if len(worst) < 2:
        return []
    code = "exfoliants_overload" if len(worst) >= 3 else "exfoliants_stacked"
    return [_warn(code, period, worst, count=len(worst), products=_names(worst))]


def _duplicate_warnings(
    period: str, steps: Sequence[StepInput]
) -> list[ConflictWarning]:
    """The same strong active in two steps on the same day."""
    found = []
    for function in DUPLICATE_FUNCTIONS:
        having = [s for s in steps if function in s.functions]
        for i, a in enumerate(having):
            for b in having[i + 1 :]:
                if share_a_day(a, b):
                    values = {
                        "products": _names((a, b)),
                        "function": function.replace("_", " "),
                    }
                    found.append(_warn("duplicate_active", period, (a, b), **values))
    return found


def _ingredient_warnings(
    period: str, steps: Sequence[StepInput], user: UserContext
) -> list[ConflictWarning]:
    """Allergens and, when pregnant, pregnancy-caution ingredients."""
    found = []
    allergies = {a.strip().lower() for a in user.allergies if a.strip()}
    for step in steps:
        for ing in step.ingredients:
            values = {"product": step.product_name, "ingredient": ing.inci}
            if allergies and ing.matches(allergies):
                found.append(
                    _warn("allergen_present", period, (step,), (ing.inci,), **values)
                )
            if user.pregnant and ing.pregnancy_caution:
                found.append(
                    _warn("pregnancy_caution", period, (step,), (ing.inci,), **values)
                )
    return found


def _morning_warnings(steps: Sequence[StepInput]) -> list[ConflictWarning]:
    """Sun-related rules of an AM routine."""
    found = []
    sunscreens = [s for s in steps if s.step_kind == "protect"]
    protected = bool(sunscreens) or any("uv_filter" in s.functions for s in steps)
    for step in steps:
        if "retinoid" in step.functions:
            values = {"product": step.product_name}
            found.append(_warn("retinoid_in_am", "am", (step,), **values))
        if protected:
            continue
        for ing in step.ingredients:
            if ing.photosensitising or ing.functions & PHOTOSENSITISING_FUNCTIONS:
                values = {"product": step.product_name, "ingredient": ing.inci}
                code = "photosensitiser_without_sunscreen"
                found.append(_warn(code, "am", (step,), (ing.inci,), **values))
    if not protected and not any(w.severity == "severe" for w in found):
        found.append(_warn("am_without_spf", "am"))
    for step in sunscreens:
        if any(s.step_kind != "protect" and s.position > step.position for s in steps):
            values = {"product": step.product_name}
            found.append(_warn("sunscreen_not_last", "am", (step,), **values))
    return found


def _sort(warnings: Iterable[ConflictWarning]) -> list[ConflictWarning]:
    """Deduplicate and order: most severe first, then period, code and positions."""
    period_rank = {p: i for i, p in enumerate(PERIODS)}
    return sorted(
        set(warnings),
        key=lambda w: (
            -SEVERITY_RANK[w.severity],
            period_rank.get(w.period, len(PERIODS)),
            w.period,
            w.code,
            w.positions,
            w.product_slugs,
            w.ingredients,
            w.reason,
        ),
    )


def check_routine(routine: RoutineInput, user: UserContext) -> list[ConflictWarning]:
    """All warnings for one routine, most severe first, in a deterministic order."""
    period = routine.period
    steps = tuple(sorted(routine.steps, key=attrgetter("position")))
    found = _pair_warnings(period, steps, steps, PAIR_CODES)
    found += _stacking_warnings(period, steps)
    found += _duplicate_warnings(period, steps)
    found += _ingredient_warnings(period, steps, user)
    if period == "am":
        found += _morning_warnings(steps)
    non_sunscreen = [s for s in steps if s.step_kind != "protect"]
    if not is_in_layering_order(non_sunscreen):
        found.append(_warn("layering_order", period, steps))
    return _sort(found)


def check_routines(
    routines: Iterable[RoutineInput], user: UserContext
) -> list[ConflictWarning]:
    """Warnings for each routine plus those across them (evening PM + weekly, AM/PM)."""
    routines = tuple(routines)
    found: list[ConflictWarning] = []
    for routine in routines:
        found += check_routine(routine, user)
    by_period: dict[str, list[StepInput]] = {p: [] for p in PERIODS}
    for routine in routines:
        by_period.setdefault(routine.period, []).extend(routine.steps)
    am, pm, weekly = (sorted(by_period[p], key=attrgetter("position")) for p in PERIODS)
    # Masks are done in the evening, so a weekly step meets the PM routine that day.
    evening = "pm+weekly"
    found += _pair_warnings(evening, pm, weekly, PAIR_CODES)
    found += _pair_warnings(evening, weekly, pm, PAIR_CODES)
    separate = _stacking_warnings("", pm) + _stacking_warnings("", weekly)
    alone = max((len(w.positions) for w in separate), default=0)
    found += [
        w for w in _stacking_warnings(evening, pm + weekly) if len(w.positions) > alone
    ]
    found += _pair_warnings("am+pm", am, pm, ("acid_am_retinoid_pm",))
    return _sort(found)


__all__ = [
    "CONCERNS",
    "FUNCTIONS",
    "RULES",
    "ConflictWarning",
    "IngredientInput",
    "RoutineInput",
    "StepInput",
    "UserContext",
    "check_routine",
    "check_routines",
    "share_a_day",
]
