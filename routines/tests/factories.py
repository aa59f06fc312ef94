"""Factories of the routines tests; the starter catalogue is loaded by migration."""

from datetime import date

import factory

from accounts.tests.factories import UserFactory
from routines.models import (
    CheckIn,
    Ingredient,
    Product,
    ProductIngredient,
    Routine,
    RoutineStep,
)


class IngredientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ingredient

    inci = factory.Sequence(lambda n: f"Testium Extract {n}")
    common_names = factory.LazyFunction(list)
    functions = factory.LazyFunction(lambda: ["humectant"])
    concerns = factory.LazyFunction(lambda: ["dryness"])


class ProductFactory(factory.django.DjangoModelFactory):
    """A product; ``ingredients=[...]`` sets its INCI list in order."""

    class Meta:
        model = Product
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"test-product-{n}")
    brand = "Zedtest"
    name = factory.Sequence(lambda n: f"Test Serum {n}")
    category = "serum"
    skin_types = factory.LazyFunction(lambda: ["normal", "dry"])
    texture = "fluid"
    fragrance_free = True
    non_comedogenic = True
    price = "19.90"
    size_ml = 30

    @factory.post_generation
    def ingredients(self, create, extracted, **kwargs):
        if not create:
            return
        for position, ingredient in enumerate(
            extracted or [IngredientFactory()], start=1
        ):
            ProductIngredient.objects.create(
                product=self, ingredient=ingredient, position=position
            )


class RoutineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Routine

    user = factory.SubFactory(UserFactory)
    period = "pm"
    name = factory.Sequence(lambda n: f"Routine {n}")


class RoutineStepFactory(factory.django.DjangoModelFactory):
    """A daily free-text step, active since 2020."""

    class Meta:
        model = RoutineStep

    routine = factory.SubFactory(RoutineFactory)
    position = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"Step {n}")
    step_kind = "serum"
    active_from = date(2020, 1, 1)


class CheckInFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CheckIn

    step = factory.SubFactory(RoutineStepFactory)
    routine = factory.SelfAttribute("step.routine")
    date = date(2024, 1, 1)


def product(slug: str) -> Product:
    """A starter-catalogue product."""
    return Product.objects.get(slug=slug)
