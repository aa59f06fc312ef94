"""Load the starter catalogue (routines/catalogue/*.json): ingredients, then products.

Idempotent: rows are matched by INCI name and slug and updated in place, and each
product's INCI list is rewritten; running it on a catalogue staff have extended keeps
their additions.
"""

import json
from decimal import Decimal
from pathlib import Path

from django.db import migrations

CATALOGUE_DIR = Path(__file__).resolve().parent.parent / "catalogue"
INGREDIENT_FIELDS = (
    "common_names",
    "functions",
    "concerns",
    "pregnancy_caution",
    "photosensitising",
    "ph_dependent",
    "comedogenic_rating",
    "description",
)
PRODUCT_FIELDS = (
    "brand",
    "name",
    "category",
    "skin_types",
    "texture",
    "fragrance_free",
    "non_comedogenic",
    "spf",
    "currency",
    "size_ml",
    "description",
)


def load(apps, schema_editor):
    Ingredient = apps.get_model("routines", "Ingredient")
    Product = apps.get_model("routines", "Product")
    ProductIngredient = apps.get_model("routines", "ProductIngredient")
    ingredients = {}
    for record in json.loads((CATALOGUE_DIR / "ingredients.json").read_text()):
        ingredient, _ = Ingredient.objects.update_or_create(
            inci=record["inci"],
            defaults={f: record[f] for f in INGREDIENT_FIELDS},
        )
        ingredients[ingredient.inci] = ingredient
    for record in json.loads((CATALOGUE_DIR / "products.json").read_text()):
        defaults = {f: record[f] for f in PRODUCT_FIELDS}
        defaults["price"] = Decimal(record["price"]) if record["price"] else None
        product, _ = Product.objects.update_or_create(
            slug=record["slug"], defaults=defaults
        )
        ProductIngredient.objects.filter(product=product).delete()
        ProductIngredient.objects.bulk_create(
            ProductIngredient(
                product=product, ingredient=ingredients[inci], position=position
            )
            for position, inci in enumerate(record["ingredients"], start=1)
        )


class Migration(migrations.Migration):
    dependencies = [("routines", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
