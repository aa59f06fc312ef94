"""The schema-only output serializers describe what the output functions build."""

import pytest

from routines import selectors, services
from routines import serializers as s
from routines.models import Ingredient, Product
from routines.tests.factories import CheckInFactory, RoutineStepFactory, product

pytestmark = pytest.mark.django_db


def test_product_shape():
    data = s.product_data(Product.objects.get(slug="norda-retinol-03-serum"))
    assert set(data) == set(s.ProductOut().fields)
    assert set(data["ingredients"][0]) == set(s.IngredientBriefOut().fields)


def test_ingredient_shape():
    data = s.ingredient_data(Ingredient.objects.get(inci="Retinol"))
    assert set(data) == set(s.IngredientOut().fields)
    assert set(data["conflicts"][0]) == set(s.IngredientConflictOut().fields)


def test_routine_shape(user):
    RoutineStepFactory(
        routine__user=user,
        routine__period="am",
        product=product("norda-retinol-03-serum"),
    )
    [routine] = services.routines_with_warnings(
        user=user, routines=selectors.routines_for(user=user)
    )
    data = s.routine_data(routine, selectors.step_rows(routines=[routine])[routine.pk])
    assert set(data) == set(s.RoutineOut().fields)
    assert set(data["steps"][0]) == set(s.StepOut().fields)
    assert set(data["steps"][0]["product"]) == set(s.StepProductOut().fields)
    assert set(data["warnings"][0]) == set(s.WarningOut().fields)


def test_check_in_shape():
    assert set(s.check_in_data(CheckInFactory())) == set(s.CheckInOut().fields)
