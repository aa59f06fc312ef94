"""Integrity of the starter catalogue JSON shipped with the routines app."""

import json
from collections import Counter
from decimal import Decimal

import pytest

from routines.conflicts import CONCERNS, FUNCTIONS
from routines.layering import PRODUCT_CATEGORIES
from routines.recommend import CATALOGUE_DIR, TEXTURES, load_catalogue

INGREDIENTS = json.loads((CATALOGUE_DIR / "ingredients.json").read_text())
PRODUCTS = json.loads((CATALOGUE_DIR / "products.json").read_text())
BY_INCI = {i["inci"]: i for i in INGREDIENTS}
PRODUCT_SKIN_TYPES = {"oily", "dry", "combination", "normal", "sensitive"}


def has_function(product: dict, function: str) -> bool:
    """Whether any ingredient of the product has ``function``."""
    return any(
        function in BY_INCI[inci]["functions"] for inci in product["ingredients"]
    )


def test_catalogue_is_large_enough():
    """At least 80 ingredients and 60 products."""
    assert len(INGREDIENTS) >= 80
    assert len(PRODUCTS) >= 60


@pytest.mark.parametrize("category", PRODUCT_CATEGORIES)
def test_every_category_has_at_least_four_products(category):
    """Each category has four products or more."""
    assert Counter(p["category"] for p in PRODUCTS)[category] >= 4


def test_products_use_only_known_categories():
    """No product outside the category vocabulary."""
    assert {p["category"] for p in PRODUCTS} <= set(PRODUCT_CATEGORIES)


def test_slugs_and_inci_names_are_unique():
    """Slugs and INCI names (case-insensitively) are unique."""
    slugs = [p["slug"] for p in PRODUCTS]
    incis = [i["inci"].lower() for i in INGREDIENTS]
    assert len(slugs) == len(set(slugs))
    assert len(incis) == len(set(incis))


def test_every_referenced_inci_exists():
    """Every INCI in a product list is in ingredients.json."""
    missing = [
        (p["slug"], inci)
        for p in PRODUCTS
        for inci in p["ingredients"]
        if inci not in BY_INCI
    ]
    assert missing == []


def test_no_ingredient_is_listed_twice_in_a_product():
    """An INCI list names each ingredient once."""
    for product in PRODUCTS:
        assert len(product["ingredients"]) == len(set(product["ingredients"])), product


def test_ingredient_fields_use_the_vocabularies():
    """Functions, concerns and comedogenic ratings stay in their vocabularies."""
    for ing in INGREDIENTS:
        assert ing["functions"], ing["inci"]
        assert set(ing["functions"]) <= set(FUNCTIONS), ing["inci"]
        assert set(ing["concerns"]) <= set(CONCERNS), ing["inci"]
        assert ing["comedogenic_rating"] in (None, 0, 1, 2, 3, 4, 5), ing["inci"]
        for flag in ("pregnancy_caution", "photosensitising", "ph_dependent"):
            assert isinstance(ing[flag], bool), (ing["inci"], flag)
        assert ing["description"]


def test_product_fields_use_the_vocabularies():
    """Skin types, textures, money and sizes are well formed."""
    for p in PRODUCTS:
        assert p["skin_types"], p["slug"]
        assert set(p["skin_types"]) <= PRODUCT_SKIN_TYPES, p["slug"]
        assert p["texture"] in TEXTURES, p["slug"]
        assert p["currency"] == "EUR"
        price = Decimal(p["price"])
        assert price > 0
        assert price.as_tuple().exponent == -2, p["slug"]
        assert isinstance(p["size_ml"], int)
        assert p["size_ml"] > 0
        assert p["brand"]
        assert p["name"]
        assert p["description"]


def test_fragrance_free_matches_the_ingredients():
    """fragrance_free is true exactly when no ingredient is a fragrance."""
    for p in PRODUCTS:
        assert p["fragrance_free"] is not has_function(p, "fragrance"), p["slug"]


def test_non_comedogenic_products_hold_no_comedogenic_ingredient():
    """A non-comedogenic product has no ingredient rated 3 or more."""
    for p in PRODUCTS:
        ratings = [BY_INCI[i]["comedogenic_rating"] or 0 for i in p["ingredients"]]
        if p["non_comedogenic"]:
            assert max(ratings) < 3, p["slug"]


def test_sunscreens_have_spf_and_uv_filters_and_others_have_no_spf():
    """Sunscreens carry SPF 30+ and UV filters; other products claim no SPF."""
    for p in PRODUCTS:
        if p["category"] == "sunscreen":
            assert p["spf"] >= 30, p["slug"]
            assert has_function(p, "uv_filter"), p["slug"]
        else:
            assert p["spf"] is None, p["slug"]


@pytest.mark.parametrize(
    ("function", "categories"),
    [
        ("retinoid", {"serum"}),
        ("exfoliant_aha", {"toner", "serum"}),
        ("exfoliant_bha", {"toner", "serum"}),
        ("exfoliant_pha", {"toner"}),
        ("vitamin_c", {"serum"}),
        ("benzoyl_peroxide", {"treatment"}),
        ("azelaic_acid", {"serum", "treatment"}),
        ("niacinamide", {"serum"}),
        ("peptide", {"serum"}),
        ("soothing", {"serum", "moisturiser"}),
    ],
)
def test_catalogue_offers_each_active_where_the_engine_looks(function, categories):
    """Every active the engine recommends exists in the categories it searches."""
    found = {p["category"] for p in PRODUCTS if has_function(p, function)}
    assert categories <= found


@pytest.mark.parametrize("category", PRODUCT_CATEGORIES)
def test_each_category_has_a_fragrance_free_option_for_sensitive_skin(category):
    """Sensitive skin has a fragrance-free choice in every category."""
    assert any(
        p["category"] == category
        and p["fragrance_free"]
        and "sensitive" in p["skin_types"]
        for p in PRODUCTS
    )


@pytest.mark.parametrize("skin_type", ["oily", "dry", "sensitive"])
def test_sunscreens_exist_for_each_skin_type(skin_type):
    """At least one fragrance-free sunscreen per skin type."""
    assert any(
        p["category"] == "sunscreen"
        and p["fragrance_free"]
        and skin_type in p["skin_types"]
        for p in PRODUCTS
    )


def test_load_catalogue_reads_every_product_with_its_ingredients():
    """load_catalogue returns one Product per record, ingredients in order."""
    products = {p.slug: p for p in load_catalogue()}
    assert set(products) == {p["slug"] for p in PRODUCTS}
    for record in PRODUCTS:
        product = products[record["slug"]]
        assert [i.inci for i in product.ingredients] == record["ingredients"]
        assert product.price == Decimal(record["price"])
