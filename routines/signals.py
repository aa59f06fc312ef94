"""Catalogue changes bump the catalogue cache version (see routines.catalogue_cache);
profile changes (accounts.signals.profile_changed) refresh the stored warnings.

Signals rather than the admin's save_model: inlines, bulk deletes from the changelist,
the shell and data fixes all go through them, so no write path can forget.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from accounts.signals import profile_changed
from routines import services
from routines.catalogue_cache import bump_catalogue_version
from routines.models import Ingredient, Product, ProductIngredient

CATALOGUE_MODELS = (Ingredient, Product, ProductIngredient)


def catalogue_changed(sender, **kwargs) -> None:
    """Any catalogue row written or deleted makes cached responses stale."""
    if not kwargs.get("raw"):
        bump_catalogue_version()


for _model in CATALOGUE_MODELS:
    post_save.connect(catalogue_changed, sender=_model, dispatch_uid=f"cat-s-{_model}")
    post_delete.connect(
        catalogue_changed, sender=_model, dispatch_uid=f"cat-d-{_model}"
    )


@receiver(m2m_changed, sender=Product.ingredients.through)
def product_ingredients_changed(sender, **kwargs) -> None:
    """product.ingredients.add/remove/clear bypass the through model's signals."""
    if kwargs["action"] in ("post_add", "post_remove", "post_clear"):
        bump_catalogue_version()


@receiver(profile_changed, dispatch_uid="routines-profile-changed")
def refresh_warnings_on_profile_change(sender, *, user, fields, **kwargs) -> None:
    """Some conflict rules read the profile (services.PROFILE_FIELDS)."""
    services.profile_changed(user=user, fields=fields)
