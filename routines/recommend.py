"""Deterministic routine recommendation from a skin profile (pure Python, no Django)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from routines.conflicts import (
    CONCERNS,
    EXFOLIANTS,
    PAIR_CODES,
    PHOTOSENSITISING_FUNCTIONS,
    RULES,
    ConflictWarning,
    IngredientInput,
    RoutineInput,
    StepInput,
    UserContext,
    check_routines,
)
from routines.layering import CATEGORY_STEP_KIND, sort_steps

CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"
SKIN_TYPES: tuple[str, ...] = ("oily", "dry", "combination", "normal")
TEXTURES: tuple[str, ...] = (
    "gel",
    "lotion",
    "cream",
    "balm",
    "oil",
    "foam",
    "liquid",
    "fluid",
)
# Preferred textures per skin type, best first.
TEXTURE_PREFERENCE: Mapping[str, tuple[str, ...]] = {
    "oily": ("gel", "fluid", "foam", "liquid", "lotion"),
    "combination": ("fluid", "gel", "lotion", "liquid", "foam"),
    "normal": ("lotion", "fluid", "cream", "gel", "liquid"),
    "dry": ("cream", "balm", "lotion", "oil"),
}
STRONG_ACTIVES = EXFOLIANTS | {"retinoid", "benzoyl_peroxide"}
# An active product carries no signature active other than the one it is chosen for.
SIGNATURE_ACTIVES = STRONG_ACTIVES | {"vitamin_c"}
FOCUS_THRESHOLD = 35  # effective score from which a concern drives actives
DECLARED_FLOOR = 60  # a concern the user declared counts at least this much
MAX_FOCUS = 3
ACTIVES_PER_FOCUS = (2, 2, 1)  # actives taken for the 1st, 2nd, 3rd concern
MAX_ACTIVES = {"am": 2, "pm": 3}
GENTLE_THRESHOLD = 60  # sensitivity or redness from which strong acids are avoided
# Alternating night schedules (0 = Monday); Sunday stays free for the weekly mask.
RETINOID_DAYS = frozenset({0, 2, 4})
EXFOLIANT_DAYS_WITH_RETINOID = frozenset({1, 5})
EXFOLIANT_DAYS = frozenset({0, 2, 4})
GENTLE_RETINOID_DAYS = frozenset({0, 3})
GENTLE_EXFOLIANT_DAYS_WITH_RETINOID = frozenset({5})
GENTLE_EXFOLIANT_DAYS = frozenset({1, 4})
MASK_DAYS = frozenset({6})


class RecommendationError(Exception):
    """No routine free of severe conflicts could be built."""


@dataclass(frozen=True)
class Product:
    """A catalogue product with its ordered ingredients."""

    slug: str
    brand: str
    name: str
    category: str
    ingredients: tuple[IngredientInput, ...]
    skin_types: frozenset[str]
    texture: str
    fragrance_free: bool
    non_comedogenic: bool
    spf: int | None = None
    price: Decimal | None = None
    currency: str = "EUR"
    size_ml: int | None = None

    @property
    def functions(self) -> frozenset[str]:
        """Union of its ingredients' functions."""
        return frozenset().union(*(i.functions for i in self.ingredients))

    @property
    def concerns(self) -> frozenset[str]:
        """Union of the concerns its ingredients address."""
        return frozenset().union(*(i.concerns for i in self.ingredients))

    @property
    def photosensitising(self) -> bool:
        """Whether it makes skin more sensitive to the sun."""
        return any(
            i.photosensitising or i.functions & PHOTOSENSITISING_FUNCTIONS
            for i in self.ingredients
        )


@dataclass(frozen=True)
class Profile:
    """What the engine knows about the user's skin; allergies are lowercased names."""

    skin_type: str
    sensitive: bool = False
    concern_scores: Mapping[str, int] = field(default_factory=dict)
    declared_concerns: frozenset[str] = frozenset()
    excluded_ingredients: frozenset[str] = frozenset()
    pregnant: bool = False

    def __post_init__(self) -> None:
        """Reject a skin type the engine cannot reason about."""
        if self.skin_type not in SKIN_TYPES:
            raise ValueError(f"skin_type must be one of {', '.join(SKIN_TYPES)}")


@dataclass(frozen=True)
class RecommendedStep:
    """A step of a recommended routine; ``active`` names the active it delivers."""

    position: int
    step_kind: str
    product_slug: str
    product_name: str
    reason: str
    days_of_week: frozenset[int] | None = None
    every_n_days: int | None = None
    active: str | None = None


@dataclass(frozen=True)
class Recommendation:
    """Recommended AM, PM and weekly routines with what drove them."""

    am: tuple[RecommendedStep, ...]
    pm: tuple[RecommendedStep, ...]
    weekly: tuple[RecommendedStep, ...]
    focus: tuple[str, ...]
    notes: tuple[str, ...] = ()
    warnings: tuple[ConflictWarning, ...] = ()


@dataclass(frozen=True)
class Active:
    """An active ingredient family the engine can put in a routine."""

    key: str
    function: str
    period: str
    categories: tuple[str, ...]
    label: str


ACTIVES: Mapping[str, Active] = {
    a.key: a
    for a in (
        Active("bha", "exfoliant_bha", "pm", ("toner", "serum", "treatment"), "BHA"),
        Active("aha", "exfoliant_aha", "pm", ("toner", "serum", "treatment"), "AHA"),
        Active("pha", "exfoliant_pha", "pm", ("toner", "serum"), "gentle PHA"),
        Active("retinoid", "retinoid", "pm", ("serum", "treatment"), "retinoid"),
        Active("vitamin_c", "vitamin_c", "am", ("serum",), "vitamin C"),
        Active(
            "benzoyl_peroxide",
            "benzoyl_peroxide",
            "am",
            ("treatment",),
            "benzoyl peroxide",
        ),
        Active(
            "azelaic_acid", "azelaic_acid", "am", ("serum", "treatment"), "azelaic acid"
        ),
        Active("niacinamide", "niacinamide", "am", ("serum",), "niacinamide"),
        Active(
            "brightening", "brightening", "pm", ("serum", "treatment"), "brightening"
        ),
        Active("peptide", "peptide", "pm", ("serum",), "peptide"),
        Active("soothing", "soothing", "am", ("serum",), "soothing"),
        Active("hydrating", "humectant", "pm", ("serum",), "hydrating"),
    )
}
# Per concern, the actives that treat it, best first.
CONCERN_ACTIVES: Mapping[str, tuple[str, ...]] = {
    "blemishes": ("bha", "benzoyl_peroxide", "azelaic_acid", "niacinamide"),
    "shine": ("niacinamide", "bha"),
    "texture": ("aha", "retinoid", "bha"),
    "dark_spots": ("vitamin_c", "azelaic_acid", "aha", "brightening"),
    "lines": ("retinoid", "peptide", "vitamin_c"),
    "redness": ("azelaic_acid", "niacinamide", "soothing"),
    "sensitivity": ("soothing", "niacinamide"),
    "dryness": ("hydrating",),
    "dark_circles": (),
}
# For sensitive or red skin: gentler stand-ins for strong actives.
GENTLE_SWAPS: Mapping[str, str] = {
    "aha": "pha",
    "bha": "azelaic_acid",
    "benzoyl_peroxide": "azelaic_acid",
}
EXFOLIANT_KEYS = frozenset({"aha", "bha", "pha"})
# Actives the schedule puts on different nights, so their pair rule cannot fire.
SCHEDULED_APART: Mapping[str, frozenset[str]] = {
    "retinoid": EXFOLIANTS,
    **{key: frozenset({"retinoid"}) for key in EXFOLIANT_KEYS},
}
# Pairs the engine never plans in the same period (the checker would warn).
PLAN_CLASHES = frozenset({frozenset({"benzoyl_peroxide", "vitamin_c"})})


def _ingredient(record: Mapping) -> IngredientInput:
    """Build an ingredient from its catalogue record."""
    return IngredientInput(
        inci=record["inci"],
        functions=frozenset(record["functions"]),
        common_names=tuple(record["common_names"]),
        photosensitising=record["photosensitising"],
        pregnancy_caution=record["pregnancy_caution"],
        concerns=frozenset(record["concerns"]),
        comedogenic_rating=record["comedogenic_rating"],
    )


def load_catalogue(directory: Path = CATALOGUE_DIR) -> list[Product]:
    """Read the starter catalogue JSON files into products, sorted by slug."""
    ingredient_records = json.loads((directory / "ingredients.json").read_text())
    ingredients = {r["inci"]: _ingredient(r) for r in ingredient_records}
    products = [
        Product(
            slug=r["slug"],
            brand=r["brand"],
            name=r["name"],
            category=r["category"],
            ingredients=tuple(ingredients[inci] for inci in r["ingredients"]),
            skin_types=frozenset(r["skin_types"]),
            texture=r["texture"],
            fragrance_free=r["fragrance_free"],
            non_comedogenic=r["non_comedogenic"],
            spf=r["spf"],
            price=Decimal(r["price"]),
            currency=r["currency"],
            size_ml=r["size_ml"],
        )
        for r in json.loads((directory / "products.json").read_text())
    ]
    return sorted(products, key=lambda p: p.slug)


def effective_scores(profile: Profile) -> dict[str, int]:
    """Concern scores clamped to 0-100, with declared concerns raised to a floor."""
    scores = {}
    for concern in CONCERNS:
        score = max(0, min(100, int(profile.concern_scores.get(concern, 0))))
        if concern in profile.declared_concerns:
            score = max(score, DECLARED_FLOOR)
        scores[concern] = score
    return scores


def focus_concerns(profile: Profile) -> tuple[str, ...]:
    """The worst concerns above the threshold, worst first, ties by concern order."""
    scores = effective_scores(profile)
    ranked = sorted(CONCERNS, key=lambda c: (-scores[c], CONCERNS.index(c)))
    return tuple(c for c in ranked if scores[c] >= FOCUS_THRESHOLD)[:MAX_FOCUS]


def is_gentle(profile: Profile) -> bool:
    """Whether strong acids and benzoyl peroxide should be avoided."""
    scores = effective_scores(profile)
    return (
        profile.sensitive
        or scores["sensitivity"] >= GENTLE_THRESHOLD
        or scores["redness"] >= GENTLE_THRESHOLD
    )


def allowed_products(profile: Profile, catalogue: Iterable[Product]) -> list[Product]:
    """Products free of excluded ingredients and, if pregnant, of caution ones."""
    excluded = {n.strip().lower() for n in profile.excluded_ingredients if n.strip()}
    return [
        p
        for p in catalogue
        if not any(i.matches(excluded) for i in p.ingredients)
        and not (profile.pregnant and any(i.pregnancy_caution for i in p.ingredients))
    ]


def _prominence(product: Product, function: str) -> int:
    """Bonus for carrying ``function`` high in the INCI list, i.e. at a real dose."""
    for index, ingredient in enumerate(product.ingredients):
        if function in ingredient.functions:
            return max(0, 15 - 3 * index)
    return 0


class _Engine:
    """One recommendation run: the profile, the usable products and the choices."""

    def __init__(self, profile: Profile, products: Sequence[Product]) -> None:
        """Prepare scores and the usable products."""
        self.profile = profile
        self.scores = effective_scores(profile)
        self.focus = focus_concerns(profile)
        self.gentle = is_gentle(profile)
        self.products = list(products)
        shiny = "shine" in self.focus and profile.skin_type != "dry"
        self.textures = TEXTURE_PREFERENCE["oily" if shiny else profile.skin_type]

    def score(self, product: Product) -> int:
        """How well a product suits the profile; higher is better."""
        profile, total = self.profile, 0
        total += 30 if profile.skin_type in product.skin_types else -30
        if self.gentle:
            total += 20 if "sensitive" in product.skin_types else -10
        if not product.fragrance_free:
            total -= 60 if self.gentle else 10
        if product.texture in self.textures:
            total += 15 - 3 * self.textures.index(product.texture)
        total += sum(self.scores[c] // 5 for c in self.focus if c in product.concerns)
        acne_prone = profile.skin_type in {"oily", "combination"} or (
            self.scores["blemishes"] >= FOCUS_THRESHOLD
        )
        if acne_prone and not product.non_comedogenic:
            total -= 25
        return total + (product.spf or 0) // 10

    def best(
        self, candidates: Iterable[Product], function: str | None = None
    ) -> Product | None:
        """Highest-scoring candidate, ties broken by slug."""

        def key(product: Product) -> tuple[int, str]:
            total = self.score(product)
            if function is not None:
                total += _prominence(product, function)
            return -total, product.slug

        return min(candidates, key=key, default=None)

    def suits(self, product: Product) -> str:
        """Why the product suits this person, as a reason fragment."""
        parts = []
        if product.texture in self.textures[:2]:
            parts.append(
                f"{product.texture} texture suits {self.profile.skin_type} skin"
            )
        elif self.profile.skin_type in product.skin_types:
            parts.append(f"made for {self.profile.skin_type} skin")
        if product.fragrance_free and self.gentle:
            parts.append("fragrance-free for sensitive skin")
        return "; ".join(parts)

    def pick_active(
        self, active: Active, period_products: Sequence[Product]
    ) -> Product | None:
        """Best product delivering ``active`` without other signature actives."""
        others = SIGNATURE_ACTIVES - {active.function}
        used = {p.slug for p in period_products}
        present = {f for p in period_products for f in p.functions}
        if active.key in SCHEDULED_APART:
            present -= SCHEDULED_APART[active.key]  # alternate nights, never meet
        clashing = _clashing(present)
        candidates = [
            p
            for p in self.products
            if p.category in active.categories
            and active.function in p.functions
            and not p.functions & (others | clashing)
            and p.slug not in used
            and not (active.period == "am" and p.photosensitising)
        ]
        return self.best(candidates, active.function)

    def plan(self) -> list[tuple[Active, Product, list[str]]]:
        """Choose actives for the focus concerns, each with its product."""
        chosen: list[tuple[Active, Product, list[str]]] = []
        for rank, concern in enumerate(self.focus):
            quota = ACTIVES_PER_FOCUS[rank]
            for key in CONCERN_ACTIVES[concern]:
                if quota == 0:
                    break
                if self.gentle:
                    key = GENTLE_SWAPS.get(key, key)
                if self.profile.pregnant and key == "retinoid":
                    continue
                existing = next((c for c in chosen if c[0].key == key), None)
                if existing:
                    if concern not in existing[2]:
                        existing[2].append(concern)
                        quota -= 1
                    continue
                active = ACTIVES[key]
                if not self._fits(active, [c[0] for c in chosen]):
                    continue
                same_period = [c[1] for c in chosen if c[0].period == active.period]
                product = self.pick_active(active, same_period)
                if product is None:
                    continue
                chosen.append((active, product, [concern]))
                quota -= 1
        return chosen

    @staticmethod
    def _fits(active: Active, chosen: Sequence[Active]) -> bool:
        """Whether an active can join the plan without clashing."""
        if active.key in EXFOLIANT_KEYS and any(
            a.key in EXFOLIANT_KEYS for a in chosen
        ):
            return False
        in_period = [a for a in chosen if a.period == active.period]
        if len(in_period) >= MAX_ACTIVES[active.period]:
            return False
        return not any(frozenset({a.key, active.key}) in PLAN_CLASHES for a in chosen)

    def base(self, category: str, avoid: frozenset[str]) -> Product | None:
        """Best everyday product of a category, free of strong actives."""
        return self.best(
            p
            for p in self.products
            if p.category == category
            and not p.functions & (STRONG_ACTIVES | avoid)
            and not p.photosensitising
        )


def _schedules(keys: set[str], gentle: bool) -> dict[str, frozenset[int] | None]:
    """Nights for the retinoid and the exfoliant so that they never meet."""
    exfoliant = next((k for k in sorted(keys) if k in EXFOLIANT_KEYS), None)
    days: dict[str, frozenset[int] | None] = {}
    if "retinoid" in keys:
        days["retinoid"] = GENTLE_RETINOID_DAYS if gentle else RETINOID_DAYS
    if exfoliant and "retinoid" in keys:
        days[exfoliant] = (
            GENTLE_EXFOLIANT_DAYS_WITH_RETINOID
            if gentle
            else EXFOLIANT_DAYS_WITH_RETINOID
        )
    elif exfoliant:
        days[exfoliant] = GENTLE_EXFOLIANT_DAYS if gentle else EXFOLIANT_DAYS
    return days


def _clashing(functions: set[str]) -> frozenset[str]:
    """Functions that some pair rule flags next to any of ``functions``."""
    found: set[str] = set()
    for rule in RULES:
        if rule.code in PAIR_CODES:
            if functions & rule.first:
                found |= rule.second
            if functions & rule.second:
                found |= rule.first
    return frozenset(found)


def _words(concerns: Iterable[str]) -> str:
    """Concern keys as readable words joined with 'and'."""
    words = [c.replace("_", " ") for c in concerns]
    return " and ".join(words) if len(words) < 3 else ", ".join(words)


def _day_names(days: frozenset[int]) -> str:
    """Day numbers as 'Mon, Wed, Fri'."""
    names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    return ", ".join(names[d] for d in sorted(days))


def _active_reason(
    engine: _Engine, active: Active, product: Product, concerns: Sequence[str]
) -> str:
    """Reason text for an active step."""
    carriers = [i.inci for i in product.ingredients if active.function in i.functions]
    text = f"{', '.join(carriers[:2])} ({active.label}) for {_words(concerns)}"
    return "; ".join(part for part in (text, engine.suits(product)) if part)


BASE_INTROS: Mapping[str, str] = {
    "cleanser": "Gentle cleanser",
    "moisturiser": "Moisturiser to support the barrier",
    "sunscreen": "Broad-spectrum SPF {spf}, always the last morning step",
    "eye_cream": "Eye cream for {concerns}",
    "oil": "Face oil to seal in moisture",
    "mask": "Weekly mask for {concerns}",
}


def _step(
    steps: list[RecommendedStep],
    product: Product,
    reason: str,
    days: frozenset[int] | None = None,
    active: str | None = None,
) -> None:
    """Append ``product`` to one period's steps."""
    steps.append(
        RecommendedStep(
            position=len(steps) + 1,
            step_kind=CATEGORY_STEP_KIND[product.category],
            product_slug=product.slug,
            product_name=product.name,
            reason=reason,
            days_of_week=days,
            active=active,
        )
    )


def _add_actives(
    engine: _Engine,
    plan: list[tuple[Active, Product, list[str]]],
    steps: dict[str, list[RecommendedStep]],
) -> None:
    """The planned actives, the retinoid and the exfoliant on nights apart."""
    keys = {a.key for a, _, _ in plan}
    schedules = _schedules(keys, engine.gentle)
    for active, product, concerns in plan:
        reason = _active_reason(engine, active, product, concerns)
        days = schedules.get(active.key)
        if days is not None:
            reason += f"; {_day_names(days)} nights"
            if "retinoid" in keys and keys & EXFOLIANT_KEYS:
                reason += ", alternating retinoid and exfoliant nights"
        _step(steps[active.period], product, reason, days, active.key)


def _add_everyday(
    engine: _Engine,
    plan: list[tuple[Active, Product, list[str]]],
    steps: dict[str, list[RecommendedStep]],
) -> None:
    """Cleanser, moisturiser, eye cream, sunscreen or oil that clash with no active."""
    profile, scores = engine.profile, engine.scores
    eye_concerns = [c for c in ("dark_circles", "lines") if scores[c] >= 50]
    wants_oil = profile.skin_type != "oily" and (
        profile.skin_type == "dry" or scores["dryness"] >= GENTLE_THRESHOLD
    )
    for period in ("am", "pm"):
        avoid = _clashing({a.function for a, _, _ in plan if a.period == period})
        slots = ["cleanser", "moisturiser"]
        slots += ["eye_cream"] if eye_concerns else []
        slots += ["sunscreen"] if period == "am" else (["oil"] if wants_oil else [])
        for category in slots:
            product = engine.base(category, avoid)
            if product is None:
                continue
            intro = BASE_INTROS[category].format(
                spf=product.spf, concerns=_words(eye_concerns)
            )
            reason = "; ".join(p for p in (intro, engine.suits(product)) if p)
            _step(steps[period], product, reason)


def _add_mask(engine: _Engine, steps: dict[str, list[RecommendedStep]]) -> None:
    """A weekly mask on Sunday if one treats a concern in focus."""
    mask = engine.base("mask", frozenset())
    mask_concerns = [c for c in engine.focus if mask and c in mask.concerns]
    if mask and mask_concerns:
        intro = BASE_INTROS["mask"].format(concerns=_words(mask_concerns))
        when = "on Sunday, a night without retinoid or acids"
        reason = "; ".join(p for p in (intro, when, engine.suits(mask)) if p)
        _step(steps["weekly"], mask, reason, MASK_DAYS)


def _notes(engine: _Engine, keys: set[str]) -> tuple[str, ...]:
    notes = []
    if "retinoid" in keys:
        notes.append("Start the retinoid slowly; skip a night if skin stings.")
    if engine.profile.pregnant:
        notes.append("Retinoids and salicylic acid are left out during pregnancy.")
    if engine.gentle:
        notes.append("Gentle options chosen for sensitive or red skin.")
    return tuple(notes)


def _ordered(items: list[RecommendedStep]) -> tuple[RecommendedStep, ...]:
    """Steps in layering order, numbered from 1."""
    return tuple(
        replace(s, position=i) for i, s in enumerate(sort_steps(items), start=1)
    )


def _build(engine: _Engine) -> Recommendation:
    """Assemble routines from the plan and the everyday products."""
    plan = engine.plan()
    steps: dict[str, list[RecommendedStep]] = {"am": [], "pm": [], "weekly": []}
    _add_actives(engine, plan, steps)
    _add_everyday(engine, plan, steps)
    _add_mask(engine, steps)
    return Recommendation(
        am=_ordered(steps["am"]),
        pm=_ordered(steps["pm"]),
        weekly=_ordered(steps["weekly"]),
        focus=engine.focus,
        notes=_notes(engine, {a.key for a, _, _ in plan}),
    )


def routine_inputs(
    recommendation: Recommendation, catalogue: Iterable[Product]
) -> tuple[RoutineInput, ...]:
    """The recommendation as conflict-checker input."""
    by_slug = {p.slug: p for p in catalogue}

    def routine(period: str, steps: Sequence[RecommendedStep]) -> RoutineInput:
        return RoutineInput(
            period,  # type: ignore[arg-type]
            tuple(
                StepInput(
                    position=s.position,
                    step_kind=s.step_kind,
                    product_name=s.product_name,
                    ingredients=by_slug[s.product_slug].ingredients,
                    product_slug=s.product_slug,
                    days_of_week=s.days_of_week,
                    every_n_days=s.every_n_days,
                )
                for s in steps
            ),
        )

    return (
        routine("am", recommendation.am),
        routine("pm", recommendation.pm),
        routine("weekly", recommendation.weekly),
    )


def recommend(profile: Profile, catalogue: Sequence[Product]) -> Recommendation:
    """Recommend AM, PM and weekly routines with no severe conflict.

    No severe rule can fire on what the engine builds, whatever the catalogue:
    retinoid and AHA/BHA/PHA are evening actives, at most one exfoliant, on nights
    apart from the retinoid; benzoyl peroxide is a morning active; an active product
    carries no other signature active and everyday products, masks and morning
    steps no strong active or photosensitiser; allergens and, in pregnancy, caution
    ingredients are filtered out with the checker's own matching. The check below
    holds the engine to that: a severe warning is a bug, refused rather than shown
    to someone as their routine.
    """
    products = sorted(allowed_products(profile, catalogue), key=lambda p: p.slug)
    user = UserContext(
        allergies=frozenset(profile.excluded_ingredients), pregnant=profile.pregnant
    )
    recommendation = _build(_Engine(profile, products))
    warnings = check_routines(routine_inputs(recommendation, products), user)
    severe = [w.code for w in warnings if w.severity == "severe"]
    if severe:
        raise RecommendationError(f"severe conflicts in a recommendation: {severe}")
    return replace(recommendation, warnings=tuple(warnings))
