"""Catalogue API: filters, search, ingredient conflicts, caching and query counts."""

import pytest
from django.test import Client

from routines.models import Ingredient, Product, ProductIngredient
from routines.tests.factories import IngredientFactory, ProductFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"


def slugs(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {p["slug"] for p in response.json()["results"]}


def all_slugs(api_client, query: str) -> set[str]:
    return slugs(api_client.get(f"{PRODUCTS}?page_size=100&{query}"))


def test_starter_catalogue_is_loaded_by_the_migration():
    assert Ingredient.objects.count() == 137
    assert Product.objects.count() == 76
    first = ProductIngredient.objects.get(
        product__slug="halden-gentle-cream-cleanser", position=1
    )
    assert first.ingredient.inci == "Aqua"


def test_catalogue_migration_is_idempotent():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("routines.migrations.0002_load_catalogue")
    migration.load(apps, None)
    assert Product.objects.count() == 76
    assert (
        ProductIngredient.objects.filter(
            product__slug="halden-gentle-cream-cleanser"
        ).count()
        == 17
    )


def test_products_are_public_and_paginated(api_client):
    response = api_client.get(PRODUCTS)
    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 76
    assert len(body["results"]) == 20
    assert body["results"][0]["ingredients"][0]["inci"]


def test_filter_by_category(api_client):
    found = all_slugs(api_client, "category=sunscreen")
    assert len(found) == 7
    assert all("spf" in s for s in found)


def test_filter_by_concern_finds_products_with_an_ingredient_treating_it(api_client):
    found = all_slugs(api_client, "concern=lines&category=serum")
    expected = {
        p.slug
        for p in Product.objects.filter(category="serum")
        if any("lines" in i.concerns for i in p.ingredients.all())
    }
    assert "norda-retinol-03-serum" in found
    assert found == expected
    assert len(expected) < Product.objects.filter(category="serum").count()


def test_filter_by_skin_type(api_client):
    found = all_slugs(api_client, "skin_type=oily&category=cleanser")
    assert "mirelle-balancing-gel-cleanser" in found
    assert "halden-gentle-cream-cleanser" not in found


def test_filter_contains_ingredient_by_common_name(api_client):
    found = all_slugs(api_client, "ingredient=retinol")
    assert "norda-retinol-03-serum" in found
    assert "mirelle-retinal-01-serum" not in found


def test_filter_contains_ingredient_by_function(api_client):
    found = all_slugs(api_client, "ingredient=retinoid&category=serum")
    assert found == {
        "norda-retinol-03-serum",
        "mirelle-retinal-01-serum",
        "plainformula-retinoate-2-night-emulsion",
    }


def test_filter_excludes_ingredient(api_client):
    found = all_slugs(api_client, "exclude_ingredient=fragrance,retinoid")
    assert found
    assert "norda-retinol-03-serum" not in found
    assert all(
        not ({"fragrance", "retinoid"} & set(i.functions))
        for p in Product.objects.filter(slug__in=found)
        for i in p.ingredients.all()
    )


def test_filter_fragrance_free(api_client):
    found = all_slugs(api_client, "fragrance_free=false")
    assert found == set(
        Product.objects.filter(fragrance_free=False).values_list("slug", flat=True)
    )


def test_search_matches_name_brand_and_ingredient(api_client):
    assert "norda-retinol-03-serum" in all_slugs(api_client, "search=retinol")
    assert all(s.startswith("halden") for s in all_slugs(api_client, "search=halden"))
    by_inci = all_slugs(api_client, "search=Retinal")
    assert "mirelle-retinal-01-serum" in by_inci


def test_bad_filter_value_answers_400(api_client):
    response = api_client.get(f"{PRODUCTS}?category=lipstick")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "category"


def test_product_detail(api_client):
    product = Product.objects.get(slug="norda-retinol-03-serum")
    body = api_client.get(f"{PRODUCTS}{product.pk}/").json()
    assert body["slug"] == "norda-retinol-03-serum"
    assert "lines" in body["concerns"]
    assert body["price"] == f"{product.price:.2f}"


def test_unknown_product_is_404(api_client):
    response = api_client.get(f"{PRODUCTS}00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404


def test_inactive_products_are_hidden(api_client):
    product = Product.objects.get(slug="norda-retinol-03-serum")
    product.is_active = False
    product.save(update_fields=["is_active"])
    assert "norda-retinol-03-serum" not in all_slugs(api_client, "search=retinol")
    assert api_client.get(f"{PRODUCTS}{product.pk}/").status_code == 404


def test_ingredients_list_what_they_treat_and_conflict_with(api_client):
    body = api_client.get("/api/v1/ingredients/?search=Retinol&page_size=100").json()
    retinol = next(i for i in body["results"] if i["inci"] == "Retinol")
    assert "lines" in retinol["concerns"]
    rules = {c["rule"]: c for c in retinol["conflicts"]}
    assert rules["retinoid_with_acid"]["severity"] == "severe"
    assert "exfoliant_aha" in rules["retinoid_with_acid"]["with_functions"]
    assert "benzoyl_peroxide_with_retinoid" in rules


def test_ingredients_filter_by_function(api_client):
    body = api_client.get("/api/v1/ingredients/?function=uv_filter").json()
    assert body["count"] > 0
    assert all("uv_filter" in i["functions"] for i in body["results"])


def test_product_list_is_served_from_cache(api_client, django_assert_num_queries):
    api_client.get(PRODUCTS)
    with django_assert_num_queries(0):
        assert api_client.get(PRODUCTS).status_code == 200


def test_product_change_invalidates_cached_list_at_once(api_client):
    product = Product.objects.get(slug="norda-retinol-03-serum")
    assert "norda-retinol-03-serum" in all_slugs(api_client, "search=retinol")
    product.name = "Renamed Retinol Serum"
    product.save()
    names = {
        p["name"]
        for p in api_client.get(f"{PRODUCTS}?search=retinol&page_size=100").json()[
            "results"
        ]
    }
    assert "Renamed Retinol Serum" in names


def test_ingredient_inline_change_in_admin_invalidates_cached_detail(
    api_client, admin_client: Client
):
    """Editing through the admin (inline delete) shows up in the API at once."""
    product = Product.objects.get(slug="norda-retinol-03-serum")
    before = api_client.get(f"{PRODUCTS}{product.pk}/").json()
    rows = list(product.product_ingredients.order_by("position"))
    form = {
        "slug": product.slug,
        "brand": product.brand,
        "name": product.name,
        "category": product.category,
        "skin_types": '["normal"]',
        "texture": product.texture,
        "fragrance_free": "on",
        "spf": "",
        "price": str(product.price),
        "currency": product.currency,
        "size_ml": str(product.size_ml),
        "description": product.description,
        "is_active": "on",
        "product_ingredients-TOTAL_FORMS": str(len(rows)),
        "product_ingredients-INITIAL_FORMS": str(len(rows)),
        "product_ingredients-MIN_NUM_FORMS": "0",
        "product_ingredients-MAX_NUM_FORMS": "1000",
    }
    for n, row in enumerate(rows):
        form[f"product_ingredients-{n}-id"] = str(row.pk)
        form[f"product_ingredients-{n}-product"] = str(product.pk)
        form[f"product_ingredients-{n}-ingredient"] = str(row.ingredient_id)
        form[f"product_ingredients-{n}-position"] = str(row.position)
        if n == len(rows) - 1:
            form[f"product_ingredients-{n}-DELETE"] = "on"
    response = admin_client.post(f"/admin/routines/product/{product.pk}/change/", form)
    assert response.status_code == 302, response.content[:3000]
    after = api_client.get(f"{PRODUCTS}{product.pk}/").json()
    assert len(after["ingredients"]) == len(before["ingredients"]) - 1
    assert after["skin_types"] == ["normal"]


def test_ingredient_delete_invalidates_ingredient_list(api_client):
    ingredient = IngredientFactory(inci="Zz Unused Extract")
    query = "/api/v1/ingredients/?search=Zz%20Unused"
    assert api_client.get(query).json()["count"] == 1
    ingredient.delete()
    assert api_client.get(query).json()["count"] == 0


@pytest.mark.parametrize("count", [2, 10])
def test_product_list_query_count_is_constant(
    api_client, django_assert_num_queries, count
):
    for _ in range(count):
        ProductFactory(ingredients=[IngredientFactory(), IngredientFactory()])
    # count + page + ingredients of the page's products
    with django_assert_num_queries(3):
        body = api_client.get(f"{PRODUCTS}?search=Zedtest").json()
    assert body["count"] == count
