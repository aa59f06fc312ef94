"""Conflict rules: table-driven cases over small hand-built routines."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routines.conflicts import (
    RULES,
    SEVERITY_RANK,
    IngredientInput,
    RoutineInput,
    StepInput,
    UserContext,
    check_routine,
    check_routines,
    share_a_day,
)
from routines.layering import STEP_KINDS, sort_steps

WATER = IngredientInput("Aqua", frozenset({"solvent"}), ("Water",))
RETINOL = IngredientInput(
    "Retinol",
    frozenset({"retinoid"}),
    ("Vitamin A",),
    photosensitising=True,
    pregnancy_caution=True,
)
GLYCOLIC = IngredientInput(
    "Glycolic Acid", frozenset({"exfoliant_aha"}), ("AHA",), photosensitising=True
)
SALICYLIC = IngredientInput(
    "Salicylic Acid", frozenset({"exfoliant_bha"}), ("BHA",), pregnancy_caution=True
)
PHA = IngredientInput("Gluconolactone", frozenset({"exfoliant_pha"}), ("PHA",))
BPO = IngredientInput("Benzoyl Peroxide", frozenset({"benzoyl_peroxide"}), ("BPO",))
VITAMIN_C = IngredientInput("Ascorbic Acid", frozenset({"vitamin_c"}), ("Vitamin C",))
NIACINAMIDE = IngredientInput("Niacinamide", frozenset({"niacinamide"}))
ZINC_OXIDE = IngredientInput("Zinc Oxide", frozenset({"uv_filter"}))
PARFUM = IngredientInput("Parfum", frozenset({"fragrance"}), ("Fragrance",))
LINALOOL = IngredientInput("Linalool", frozenset({"fragrance"}))
BERGAMOT = IngredientInput(
    "Citrus Aurantium Bergamia Peel Oil",
    frozenset({"fragrance"}),
    ("Bergamot oil",),
    photosensitising=True,
)
GLYCERIN = IngredientInput("Glycerin", frozenset({"humectant"}))


def step(position, kind, *ingredients, days=None, every=None, offset=0, name=None):
    """A step whose product is named after its first active ingredient."""
    label = name or (f"{ingredients[0].inci} {kind}" if ingredients else kind)
    return StepInput(
        position=position,
        step_kind=kind,
        product_name=label,
        ingredients=(WATER, *ingredients),
        product_slug=label.lower().replace(" ", "-"),
        days_of_week=frozenset(days) if days is not None else None,
        every_n_days=every,
        start_offset=offset,
    )


def sunscreen(position):
    """A sunscreen step."""
    return step(position, "protect", ZINC_OXIDE, name="SPF 50")


def cleanse(position=1):
    """A plain cleanser step."""
    return step(position, "cleanse", GLYCERIN, name="Cleanser")


def moisturise(position):
    """A plain moisturiser step."""
    return step(position, "moisturise", GLYCERIN, name="Cream")


NOBODY = UserContext()
MON_WED_FRI, TUE_SAT = {0, 2, 4}, {1, 5}

ROUTINE_CASES = [
    pytest.param(
        "pm",
        [cleanse(), step(2, "serum", RETINOL), step(3, "tone", GLYCOLIC)],
        NOBODY,
        {("retinoid_with_acid", "severe"), ("layering_order", "info")},
        id="retinoid-and-aha-same-night",
    ),
    pytest.param(
        "pm",
        [
            cleanse(),
            step(2, "tone", SALICYLIC, days=TUE_SAT),
            step(3, "serum", RETINOL, days=MON_WED_FRI),
        ],
        NOBODY,
        set(),
        id="retinoid-and-bha-on-alternate-days",
    ),
    pytest.param(
        "pm",
        [step(1, "tone", SALICYLIC, days={4}), step(2, "serum", RETINOL, days={4})],
        NOBODY,
        {("retinoid_with_acid", "severe")},
        id="retinoid-and-bha-both-friday",
    ),
    pytest.param(
        "pm",
        [
            step(1, "tone", GLYCOLIC, every=2, offset=1),
            step(2, "serum", RETINOL, every=2),
        ],
        NOBODY,
        set(),
        id="every-other-day-offset-never-meet",
    ),
    pytest.param(
        "pm",
        [
            step(1, "tone", GLYCOLIC, every=4, offset=2),
            step(2, "serum", RETINOL, every=2),
        ],
        NOBODY,
        {("retinoid_with_acid", "severe")},
        id="every-2-and-every-4-meet-on-day-2",
    ),
    pytest.param(
        "pm",
        [step(1, "tone", GLYCOLIC, days={1}), step(2, "serum", RETINOL, every=7)],
        NOBODY,
        set(),
        id="weekly-mondays-vs-tuesdays",
    ),
    pytest.param(
        "pm",
        [step(1, "tone", GLYCOLIC, days={1}), step(2, "serum", RETINOL, every=3)],
        NOBODY,
        {("retinoid_with_acid", "severe")},
        id="every-3-days-drifts-onto-tuesday",
    ),
    pytest.param(
        "pm",
        [step(1, "serum", RETINOL, GLYCOLIC), moisturise(2)],
        NOBODY,
        set(),
        id="one-product-with-both-is-formulated-not-flagged",
    ),
    pytest.param(
        "pm",
        [step(1, "serum", RETINOL), step(2, "treat", BPO)],
        NOBODY,
        {("benzoyl_peroxide_with_retinoid", "severe")},
        id="bpo-with-retinoid",
    ),
    pytest.param(
        "am",
        [step(1, "serum", VITAMIN_C), step(2, "treat", BPO), sunscreen(3)],
        NOBODY,
        {("benzoyl_peroxide_with_vitamin_c", "warning")},
        id="bpo-with-vitamin-c",
    ),
    pytest.param(
        "am",
        [step(1, "serum", VITAMIN_C), step(2, "treat", BPO, days={0}), sunscreen(3)],
        NOBODY,
        {("benzoyl_peroxide_with_vitamin_c", "warning")},
        id="daily-step-meets-any-scheduled-step",
    ),
    pytest.param(
        "pm",
        [step(1, "tone", SALICYLIC), step(2, "serum", PHA)],
        NOBODY,
        {("exfoliants_stacked", "warning")},
        id="two-exfoliants",
    ),
    pytest.param(
        "pm",
        [step(1, "tone", SALICYLIC), step(2, "serum", PHA), step(3, "treat", GLYCOLIC)],
        NOBODY,
        {("exfoliants_overload", "severe")},
        id="three-exfoliants",
    ),
    pytest.param(
        "pm",
        [
            step(1, "tone", SALICYLIC, days={0}),
            step(2, "serum", PHA, days={1}),
            step(3, "treat", GLYCOLIC, days={2}),
        ],
        NOBODY,
        set(),
        id="three-exfoliants-on-three-days",
    ),
    pytest.param(
        "pm",
        [
            step(1, "tone", SALICYLIC, days={0, 1}),
            step(2, "serum", PHA, days={1, 2}),
            step(3, "treat", GLYCOLIC, days={2, 0}),
        ],
        NOBODY,
        {("exfoliants_stacked", "warning")},
        id="pairwise-overlaps-are-two-a-day-not-three",
    ),
    pytest.param(
        "pm",
        [step(1, "serum", RETINOL), step(2, "treat", RETINOL)],
        NOBODY,
        {("duplicate_active", "warning")},
        id="two-retinoids",
    ),
    pytest.param(
        "am",
        [cleanse(), step(2, "serum", RETINOL), moisturise(3), sunscreen(4)],
        NOBODY,
        {("retinoid_in_am", "warning")},
        id="retinoid-in-am",
    ),
    pytest.param(
        "am",
        [cleanse(), step(2, "tone", GLYCOLIC), moisturise(3)],
        NOBODY,
        {("photosensitiser_without_sunscreen", "severe")},
        id="aha-in-am-without-sunscreen",
    ),
    pytest.param(
        "am",
        [cleanse(), step(2, "serum", RETINOL), moisturise(3)],
        NOBODY,
        {
            ("retinoid_in_am", "warning"),
            ("photosensitiser_without_sunscreen", "severe"),
        },
        id="retinoid-in-am-without-sunscreen",
    ),
    pytest.param(
        "am",
        [cleanse(), step(2, "oil", BERGAMOT)],
        NOBODY,
        {("photosensitiser_without_sunscreen", "severe")},
        id="bergamot-oil-in-am-without-sunscreen",
    ),
    pytest.param(
        "am",
        [cleanse(), step(2, "tone", GLYCOLIC), moisturise(3), sunscreen(4)],
        NOBODY,
        set(),
        id="aha-in-am-with-sunscreen",
    ),
    pytest.param(
        "am",
        [cleanse(), moisturise(2)],
        NOBODY,
        {("am_without_spf", "warning")},
        id="am-without-spf",
    ),
    pytest.param(
        "am",
        [],
        NOBODY,
        {("am_without_spf", "warning")},
        id="empty-am",
    ),
    pytest.param(
        "am",
        [cleanse(), sunscreen(2), moisturise(3)],
        NOBODY,
        {("sunscreen_not_last", "warning")},
        id="sunscreen-under-moisturiser",
    ),
    pytest.param(
        "pm",
        [cleanse(), moisturise(2), step(3, "serum", NIACINAMIDE)],
        NOBODY,
        {("layering_order", "info")},
        id="serum-after-cream",
    ),
    pytest.param(
        "pm",
        [cleanse(), step(2, "serum", GLYCERIN, PARFUM, name="Serum")],
        UserContext(allergies=frozenset({"fragrance"})),
        {("allergen_present", "severe")},
        id="allergy-by-common-name",
    ),
    pytest.param(
        "pm",
        [cleanse(), step(2, "serum", GLYCERIN, LINALOOL, name="Serum")],
        UserContext(allergies=frozenset({"linalool"})),
        {("allergen_present", "severe")},
        id="allergy-by-inci",
    ),
    pytest.param(
        "pm",
        [cleanse(), step(2, "serum", GLYCERIN, LINALOOL, PARFUM, name="Serum")],
        UserContext(allergies=frozenset({"fragrance"})),
        {("allergen_present", "severe")},
        id="allergy-by-function-catches-every-fragrance",
    ),
    pytest.param(
        "pm",
        [cleanse(), step(2, "serum", RETINOL)],
        UserContext(pregnant=True),
        {("pregnancy_caution", "severe")},
        id="pregnant-with-retinoid",
    ),
    pytest.param(
        "pm",
        [cleanse(), step(2, "serum", RETINOL)],
        UserContext(pregnant=None),
        set(),
        id="pregnancy-unknown",
    ),
    pytest.param(
        "am",
        [cleanse(), step(2, "serum", NIACINAMIDE), moisturise(3), sunscreen(4)],
        UserContext(allergies=frozenset({"lanolin"}), pregnant=True),
        set(),
        id="clean-morning",
    ),
]


@pytest.mark.parametrize(("period", "steps", "user", "expected"), ROUTINE_CASES)
def test_check_routine(period, steps, user, expected):
    """check_routine finds exactly the expected (code, severity) pairs."""
    warnings = check_routine(RoutineInput(period, tuple(steps)), user)
    assert {(w.code, w.severity) for w in warnings} == expected


PM_RETINOID = step(2, "serum", RETINOL, days=MON_WED_FRI)
ROUTINES_CASES = [
    pytest.param(
        [
            RoutineInput("pm", (cleanse(), PM_RETINOID)),
            RoutineInput("weekly", (step(1, "mask", GLYCOLIC, days={6}),)),
        ],
        set(),
        id="sunday-acid-mask-misses-retinoid-nights",
    ),
    pytest.param(
        [
            RoutineInput("pm", (cleanse(), PM_RETINOID)),
            RoutineInput("weekly", (step(1, "mask", GLYCOLIC, days={0}),)),
        ],
        {("retinoid_with_acid", "severe")},
        id="monday-acid-mask-meets-retinoid",
    ),
    pytest.param(
        [
            RoutineInput("pm", (cleanse(), step(2, "tone", PHA))),
            RoutineInput("weekly", (step(1, "mask", SALICYLIC),)),
        ],
        {("exfoliants_stacked", "warning")},
        id="evening-exfoliants-stack-across-pm-and-mask",
    ),
    pytest.param(
        [
            RoutineInput("am", (step(1, "cleanse", SALICYLIC), sunscreen(2))),
            RoutineInput("pm", (cleanse(), PM_RETINOID)),
        ],
        {("acid_am_retinoid_pm", "warning")},
        id="morning-acid-on-retinoid-days",
    ),
    pytest.param(
        [
            RoutineInput("am", (step(1, "treat", BPO), sunscreen(2))),
            RoutineInput("pm", (cleanse(), PM_RETINOID)),
        ],
        set(),
        id="bpo-morning-retinoid-night-is-fine",
    ),
]


@pytest.mark.parametrize(("routines", "expected"), ROUTINES_CASES)
def test_check_routines_across_periods(routines, expected):
    """check_routines adds cross-routine findings to the per-routine ones."""
    warnings = check_routines(routines, NOBODY)
    assert {(w.code, w.severity) for w in warnings} == expected


def test_allergy_warning_names_the_product_and_the_ingredient():
    """The allergy message says which product holds which ingredient."""
    serum = step(2, "serum", GLYCERIN, PARFUM, name="Rose Serum")
    user = UserContext(allergies=frozenset({"fragrance"}))
    [warning] = check_routine(RoutineInput("pm", (cleanse(), serum)), user)
    assert "Rose Serum" in warning.reason
    assert "Parfum" in warning.reason
    assert warning.ingredients == ("Parfum",)
    assert warning.product_slugs == ("rose-serum",)
    assert warning.positions == (2,)


def test_warnings_come_most_severe_first():
    """Order is severe, warning, info, then by code."""
    steps = (moisturise(1), step(2, "serum", RETINOL), step(3, "tone", GLYCOLIC))
    warnings = check_routine(RoutineInput("am", steps), NOBODY)
    ranks = [SEVERITY_RANK[w.severity] for w in warnings]
    assert ranks == sorted(ranks, reverse=True)
    assert warnings == check_routine(RoutineInput("am", steps), NOBODY)


def test_every_rule_has_a_valid_severity_and_text():
    """The rule table is well formed and codes are unique."""
    assert len({r.code for r in RULES}) == len(RULES)
    for rule in RULES:
        assert rule.severity in SEVERITY_RANK
        assert rule.reason
        assert rule.advice


@pytest.mark.parametrize(
    "kwargs",
    [
        {"days_of_week": frozenset({7})},
        {"every_n_days": 0},
        {"days_of_week": frozenset({1}), "every_n_days": 2},
    ],
)
def test_unreadable_schedules_are_rejected(kwargs):
    """A schedule with an impossible day or two kinds at once is an error."""
    with pytest.raises(ValueError, match="days"):
        StepInput(position=1, step_kind="serum", product_name="x", **kwargs)


def test_share_a_day_is_symmetric_for_mixed_schedules():
    """share_a_day does not depend on argument order."""
    a = step(1, "serum", RETINOL, every=3, offset=1)
    b = step(2, "tone", GLYCOLIC, days={3})
    assert share_a_day(a, b) == share_a_day(b, a)


def test_sort_steps_puts_sunscreen_last_and_cleanser_first():
    """sort_steps follows the layering order whatever the input order."""
    steps = [sunscreen(1), moisturise(2), step(3, "serum", NIACINAMIDE), cleanse(4)]
    assert [s.step_kind for s in sort_steps(steps)] == [
        "cleanse",
        "serum",
        "moisturise",
        "protect",
    ]


ACTIVE_INGREDIENTS = [RETINOL, GLYCOLIC, SALICYLIC, PHA, BPO, VITAMIN_C, PARFUM]


@st.composite
def routines(draw):
    """Random routines of up to five steps with random schedules."""
    period = draw(st.sampled_from(["am", "pm", "weekly"]))
    steps = []
    for position in range(1, draw(st.integers(0, 5)) + 1):
        ingredients = draw(st.lists(st.sampled_from(ACTIVE_INGREDIENTS), max_size=2))
        schedule = draw(
            st.one_of(
                st.just({}),
                st.builds(lambda d: {"days": d}, st.sets(st.integers(0, 6))),
                st.builds(
                    lambda n, o: {"every": n, "offset": o},
                    st.integers(1, 9),
                    st.integers(0, 8),
                ),
            )
        )
        kind = draw(st.sampled_from(STEP_KINDS))
        steps.append(
            step(position, kind, *ingredients, name=f"P{position}", **schedule)
        )
    return RoutineInput(period, tuple(steps))


@given(routines(), st.randoms(use_true_random=False))
def test_findings_do_not_depend_on_the_order_steps_are_listed(routine, rnd):
    """Shuffling the step list leaves the warnings unchanged."""
    shuffled = list(routine.steps)
    rnd.shuffle(shuffled)
    user = UserContext(allergies=frozenset({"fragrance"}), pregnant=True)
    assert check_routine(routine, user) == check_routine(
        RoutineInput(routine.period, tuple(shuffled)), user
    )
