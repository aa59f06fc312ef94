"""`updated_at` that every write moves, so `?updated_since=` sees every change."""

from django.db import models
from django.utils import timezone


class SyncedQuerySet(models.QuerySet):
    """`update()` stamps `updated_at` as `save()` does (bulk_update goes through it)."""

    def update(self, **kwargs):
        kwargs.setdefault("updated_at", timezone.now())
        return super().update(**kwargs)


class Synced(models.Model):
    """A row an app syncs by `updated_at`: every save and queryset update moves it.

    `save(update_fields=[...])` adds `updated_at` to the fields (Django's `auto_now`
    alone would skip it), so no write path can change a row without a syncing app
    seeing it. Some writes touch fields the API does not show; such rows are sent
    again, which a sync by upsert takes in its stride.
    """

    updated_at = models.DateTimeField(auto_now=True)

    objects = SyncedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, update_fields=None, **kwargs):
        if update_fields:
            update_fields = {*update_fields, "updated_at"}
        super().save(*args, update_fields=update_fields, **kwargs)
