"""Recommendation engine: properties over random profiles, plus worked examples."""

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routines import recommend as engine
from routines.conflicts import (
    CONCERNS,
    EXFOLIANTS,
    FUNCTIONS,
    ConflictWarning,
    IngredientInput,
    UserContext,
    check_routines,
)
from routines.layering import PRODUCT_CATEGORIES
from routines.recommend import (
    SKIN_TYPES,
    Product,
    Profile,
    Recommendation,
    RecommendationError,
    load_catalogue,
    recommend,
    routine_inputs,
)

CATALOGUE = load_catalogue()
BY_SLUG = {p.slug: p for p in CATALOGUE}
NAMES = sorted(
    {
        n.lower()
        for p in CATALOGUE
        for i in p.ingredients
        for n in (i.inci, *i.common_names)
    }
)

profiles = st.builds(
    Profile,
    skin_type=st.sampled_from(SKIN_TYPES),
    sensitive=st.booleans(),
    concern_scores=st.fixed_dictionaries({c: st.integers(0, 100) for c in CONCERNS}),
    declared_concerns=st.frozensets(st.sampled_from(CONCERNS), max_size=3),
    excluded_ingredients=st.frozensets(
        st.sampled_from([*NAMES, "fragrance", "retinoid"]), max_size=3
    ),
    pregnant=st.booleans(),
)
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def steps_of(rec: Recommendation):
    """All steps of a recommendation."""
    return rec.am + rec.pm + rec.weekly


def functions_in(steps) -> set[str]:
    """Functions of the products in ``steps``."""
    return {f for s in steps for f in BY_SLUG[s.product_slug].functions}


@PROPERTY_SETTINGS
@given(profiles)
def test_recommendation_has_no_severe_conflict(profile):
    """Checked independently, the routines carry no severe warning."""
    rec = recommend(profile, CATALOGUE)
    user = UserContext(
        allergies=profile.excluded_ingredients, pregnant=profile.pregnant
    )
    warnings = check_routines(routine_inputs(rec, CATALOGUE), user)
    assert [w for w in warnings if w.severity == "severe"] == []
    assert tuple(warnings) == rec.warnings


@PROPERTY_SETTINGS
@given(profiles)
def test_sunscreen_is_the_last_morning_step_when_one_is_allowed(profile):
    """AM ends with sunscreen whenever the allowed catalogue has one."""
    rec = recommend(profile, CATALOGUE)
    allowed = engine.allowed_products(profile, CATALOGUE)
    if any(p.category == "sunscreen" for p in allowed):
        assert rec.am[-1].step_kind == "protect"
    kinds = [s.step_kind for s in rec.am]
    assert "protect" not in kinds[:-1]


@PROPERTY_SETTINGS
@given(profiles)
def test_no_chosen_product_holds_an_excluded_ingredient(profile):
    """Nothing the user excluded appears, by INCI, common name or function."""
    rec = recommend(profile, CATALOGUE)
    excluded = {n.lower() for n in profile.excluded_ingredients}
    for s in steps_of(rec):
        for ing in BY_SLUG[s.product_slug].ingredients:
            assert not ing.matches(excluded), (s.product_slug, ing.inci)


@PROPERTY_SETTINGS
@given(profiles.map(lambda p: replace(p, pregnant=True)))
def test_no_pregnancy_caution_ingredient_when_pregnant(profile):
    """A pregnant user gets no retinoid, salicylic acid or other caution ingredient."""
    rec = recommend(profile, CATALOGUE)
    for s in steps_of(rec):
        assert not any(i.pregnancy_caution for i in BY_SLUG[s.product_slug].ingredients)


@PROPERTY_SETTINGS
@given(profiles)
def test_recommendation_is_deterministic(profile):
    """Same input, same output, whatever order the catalogue comes in."""
    first = recommend(profile, CATALOGUE)
    assert recommend(profile, CATALOGUE) == first
    assert recommend(profile, list(reversed(CATALOGUE))) == first


@PROPERTY_SETTINGS
@given(profiles)
def test_steps_are_layered_explained_and_numbered(profile):
    """Positions run 1..n in layering order and every step has a reason."""
    rec = recommend(profile, CATALOGUE)
    for steps in (rec.am, rec.pm, rec.weekly):
        assert [s.position for s in steps] == list(range(1, len(steps) + 1))
        assert list(steps) == engine.sort_steps(steps)
        assert all(s.reason for s in steps)


@PROPERTY_SETTINGS
@given(profiles)
def test_retinoid_and_exfoliant_nights_never_meet(profile):
    """Retinoid and exfoliant steps sit on disjoint days, and only at night."""
    rec = recommend(profile, CATALOGUE)
    assert not functions_in(rec.am) & ({"retinoid"} | EXFOLIANTS)
    retinoid = [s for s in rec.pm if "retinoid" in functions_in([s])]
    acids = [s for s in rec.pm if EXFOLIANTS & functions_in([s])]
    for r in retinoid:
        for a in acids:
            assert r.days_of_week is not None
            assert a.days_of_week is not None
            assert not r.days_of_week & a.days_of_week


def test_acne_prone_oily_skin_gets_bha_and_benzoyl_peroxide():
    """Oily skin with blemishes gets salicylic acid at night and BPO by day."""
    # given
    profile = Profile("oily", concern_scores={"blemishes": 85, "shine": 60})
    # when
    rec = recommend(profile, CATALOGUE)
    # then
    assert rec.focus[:2] == ("blemishes", "shine")
    assert "exfoliant_bha" in functions_in(rec.pm)
    assert "benzoyl_peroxide" in functions_in(rec.am)
    assert "benzoyl_peroxide" not in functions_in(rec.pm)
    assert all(BY_SLUG[s.product_slug].non_comedogenic for s in steps_of(rec))
    textures = {BY_SLUG[s.product_slug].texture for s in rec.am}
    assert textures <= {"gel", "fluid", "foam", "liquid", "lotion"}


def test_lines_get_a_retinoid_at_night_only_alternating_with_an_exfoliant():
    """Lines plus texture: retinoid Mon/Wed/Fri, AHA on other nights, none by day."""
    profile = Profile("normal", concern_scores={"lines": 80, "texture": 70})
    rec = recommend(profile, CATALOGUE)
    retinoid = [s for s in rec.pm if s.active == "retinoid"]
    exfoliant = [s for s in rec.pm if s.active in {"aha", "bha", "pha"}]
    assert len(retinoid) == 1
    assert len(exfoliant) == 1
    assert retinoid[0].days_of_week == frozenset({0, 2, 4})
    assert exfoliant[0].days_of_week == frozenset({1, 5})
    assert "retinoid" not in functions_in(rec.am)
    assert "Mon, Wed, Fri" in retinoid[0].reason


def test_pregnant_lines_get_peptides_instead_of_a_retinoid():
    """During pregnancy lines are treated without retinoids."""
    profile = Profile("dry", concern_scores={"lines": 90}, pregnant=True)
    rec = recommend(profile, CATALOGUE)
    assert "retinoid" not in functions_in(steps_of(rec))
    assert "peptide" in functions_in(rec.pm)
    assert any("pregnancy" in note for note in rec.notes)


def test_sensitive_red_skin_gets_gentle_fragrance_free_products():
    """Sensitive skin: azelaic acid, no strong acids or BPO, nothing scented."""
    profile = Profile(
        "combination",
        sensitive=True,
        concern_scores={"redness": 80, "blemishes": 60, "texture": 50},
    )
    rec = recommend(profile, CATALOGUE)
    used = functions_in(steps_of(rec))
    assert "azelaic_acid" in used
    assert not used & {"exfoliant_aha", "exfoliant_bha", "benzoyl_peroxide"}
    assert all(BY_SLUG[s.product_slug].fragrance_free for s in steps_of(rec))


def test_dry_skin_gets_rich_textures_and_an_oil():
    """Dry skin: a cream or balm moisturiser and a face oil at night."""
    profile = Profile("dry", concern_scores={"dryness": 80})
    rec = recommend(profile, CATALOGUE)
    assert any(s.step_kind == "oil" for s in rec.pm)
    assert rec.pm[-1].step_kind == "oil"
    assert "hydrating" in {s.active for s in rec.pm}


def test_dark_spots_get_vitamin_c_in_the_morning():
    """Dark spots: vitamin C by day, under sunscreen."""
    profile = Profile("normal", concern_scores={"dark_spots": 90})
    rec = recommend(profile, CATALOGUE)
    assert "vitamin_c" in {s.active for s in rec.am}
    assert rec.am[-1].step_kind == "protect"


def test_declared_concern_counts_even_without_a_score():
    """A concern the user declared drives actives though the analysis scored it 0."""
    profile = Profile("normal", declared_concerns=frozenset({"lines"}))
    rec = recommend(profile, CATALOGUE)
    assert rec.focus == ("lines",)
    assert "retinoid" in {s.active for s in rec.pm}


def test_no_concerns_gives_a_basic_routine():
    """Clear skin gets cleanse, moisturise and SPF only."""
    rec = recommend(Profile("normal"), CATALOGUE)
    assert [s.step_kind for s in rec.am] == ["cleanse", "moisturise", "protect"]
    assert [s.step_kind for s in rec.pm] == ["cleanse", "moisturise"]
    assert rec.weekly == ()


def test_excluding_every_uv_filter_leaves_a_routine_without_sunscreen_or_severe():
    """Allergic to all UV filters: no sunscreen, and nothing photosensitising by day."""
    profile = Profile(
        "oily",
        concern_scores={"texture": 80, "lines": 80},
        excluded_ingredients=frozenset({"uv_filter"}),
    )
    rec = recommend(profile, CATALOGUE)
    assert "protect" not in [s.step_kind for s in rec.am]
    assert "am_without_spf" in {w.code for w in rec.warnings}
    assert all(w.severity != "severe" for w in rec.warnings)


# Catalogues an admin could write: any category, ingredients with any functions
# (strong actives over-represented), photosensitising and pregnancy flags.
STRONG = ["retinoid", "exfoliant_aha", "exfoliant_bha", "exfoliant_pha"]
STRONG += ["benzoyl_peroxide", "vitamin_c", "azelaic_acid", "niacinamide"]
random_ingredients = st.lists(
    st.builds(
        IngredientInput,
        inci=st.sampled_from([f"ingredient {n}" for n in range(12)]),
        functions=st.frozensets(
            st.sampled_from(STRONG) | st.sampled_from(sorted(FUNCTIONS)),
            min_size=1,
            max_size=3,
        ),
        photosensitising=st.booleans(),
        pregnancy_caution=st.booleans(),
        concerns=st.frozensets(st.sampled_from(CONCERNS), max_size=2),
    ),
    min_size=1,
    max_size=4,
)
random_catalogues = st.lists(
    st.builds(
        Product,
        slug=st.just(""),
        brand=st.just("Brand"),
        name=st.just(""),
        category=st.sampled_from(PRODUCT_CATEGORIES),
        ingredients=random_ingredients.map(tuple),
        skin_types=st.frozensets(st.sampled_from(SKIN_TYPES), min_size=1),
        texture=st.sampled_from(["gel", "cream", "lotion", "oil", "balm"]),
        fragrance_free=st.booleans(),
        non_comedogenic=st.booleans(),
        spf=st.sampled_from([None, 30, 50]),
    ),
    min_size=1,
    max_size=30,
).map(
    lambda products: [
        replace(p, slug=f"p{n}", name=f"P{n}") for n, p in enumerate(products)
    ]
)


@PROPERTY_SETTINGS
@given(profiles, random_catalogues)
def test_no_catalogue_leads_the_engine_into_a_severe_conflict(profile, catalogue):
    """Whatever products the catalogue holds, no recommendation has a severe warning.

    Checked independently of the engine; recommend() itself refuses one.
    """
    rec = recommend(profile, catalogue)
    user = UserContext(
        allergies=profile.excluded_ingredients, pregnant=profile.pregnant
    )
    warnings = check_routines(routine_inputs(rec, catalogue), user)
    assert [w for w in warnings if w.severity == "severe"] == []


def test_a_severe_warning_refuses_the_recommendation(monkeypatch):
    """Should a rule flag what the engine built as severe, nothing is recommended."""
    # given: a checker with a severe rule the engine does not plan around
    severe = ConflictWarning(
        code="new_rule", severity="severe", reason="", advice="", period="pm"
    )
    checker = engine.check_routines
    monkeypatch.setattr(
        engine, "check_routines", lambda *args: [*checker(*args), severe]
    )
    # when / then
    with pytest.raises(RecommendationError, match="new_rule"):
        recommend(Profile("normal", concern_scores={"lines": 80}), CATALOGUE)


def test_reasons_name_the_active_and_the_concern():
    """An active step says which ingredient treats which concern."""
    profile = Profile("oily", concern_scores={"blemishes": 85})
    rec = recommend(profile, CATALOGUE)
    bha = next(s for s in rec.pm if s.active == "bha")
    assert "Salicylic Acid" in bha.reason
    assert "blemishes" in bha.reason


def test_unknown_skin_type_is_rejected():
    """Profile only takes the four skin types the engine knows."""
    with pytest.raises(ValueError, match="skin_type"):
        Profile("sensitive")


@pytest.mark.parametrize("skin_type", SKIN_TYPES)
def test_sunscreen_suits_the_skin_type(skin_type):
    """The chosen sunscreen is made for the user's skin type."""
    rec = recommend(Profile(skin_type), CATALOGUE)
    assert skin_type in BY_SLUG[rec.am[-1].product_slug].skin_types
