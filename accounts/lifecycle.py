"""Data export and erasure across apps, through a small registry of data owners.

Every app that stores data about a user exposes, in its own ``services.py``::

    def export_user_data(*, user) -> dict:  # {"app_label.ModelName": [row, ...]}
    def erase_user_data(*, user) -> None:   # delete or anonymise; files included

Export rows are JSON-ready dicts with an ``"id"``, made by ``export_rows``; every
model with a ForeignKey or OneToOneField to the user must appear under its label
(even with an empty list); ``accounts/tests/test_export.py`` fails otherwise. Files
are not inlined: a row links to them (analysis photos: short-lived signed
``photo_url``). Erasure runs inside one transaction per account; files should be
removed with ``transaction.on_commit``.
"""

import importlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User

logger = logging.getLogger(__name__)

# The apps that own data about a user, in export order; erasure runs in reverse so
# the account row (accounts) is anonymised last.
DATA_OWNERS = [
    "accounts",
    "notifications",
    "push",
    "analysis",
    "routines",
    "consultations",
    "idempotency",
]

# 2: analyses carry every field (full engine results) and signed photo links.
EXPORT_FORMAT_VERSION = 2


def _hooks(name: str) -> Iterator[tuple[str, Callable]]:
    for label in DATA_OWNERS:
        yield label, getattr(importlib.import_module(f"{label}.services"), name)


def export_rows(
    queryset: QuerySet,
    *,
    exclude: tuple[str, ...] = (),
    many_to_many: tuple[str, ...] = (),
) -> list[dict]:
    """The rows as JSON-ready dicts; every app's ``export_user_data`` builds on it.

    Each concrete field but those in ``exclude`` is keyed by attribute name
    (``user_id``); each many-to-many field in ``many_to_many`` is the list of its
    objects' ``str()``.
    """
    fields = [
        f.attname for f in queryset.model._meta.concrete_fields if f.name not in exclude
    ]
    rows = list(queryset.values(*fields))
    if many_to_many:
        related = queryset.prefetch_related(*many_to_many).only("pk").in_bulk()
        for row in rows:
            obj = related[row["id"]]
            for name in many_to_many:
                row[name] = [str(item) for item in getattr(obj, name).all()]
    return json.loads(json.dumps(rows, cls=DjangoJSONEncoder))


def build_user_export(*, user: User) -> dict:
    """Everything stored about the user, as one JSON-ready document."""
    data: dict[str, list] = {}
    for label, hook in _hooks("export_user_data"):
        part = hook(user=user)
        for model_label, rows in part.items():
            if not model_label.startswith(f"{label}."):
                raise ValueError(f"{label} exported {model_label}, not one of its own")
            if model_label in data:
                raise ValueError(f"{model_label} exported twice")
            data[model_label] = rows
    return {
        "format": EXPORT_FORMAT_VERSION,
        "exported_at": timezone.now(),
        "user_id": str(user.pk),
        "data": data,
    }


def _forget_in_admin_log(user: User) -> None:
    """The staff audit trail keeps who did what and when, not whom it was about."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)
    ).update(object_repr="erased account", change_message="")


def erase_user(*, user: User) -> None:
    """Erase every app's data about the user and mark the account purged."""
    with transaction.atomic():
        for _label, hook in reversed(list(_hooks("erase_user_data"))):
            hook(user=user)
        _forget_in_admin_log(user)
        user.purged_at = timezone.now()
        user.save(update_fields=["purged_at"])


def purge_cutoff(now=None):
    now = now or timezone.now()
    return now - timedelta(days=settings.ACCOUNT_PURGE_AFTER_DAYS)


@dataclass
class PurgeSummary:
    purged: int = 0
    failed: int = 0
    failed_ids: list[str] = field(default_factory=list)


def due_for_purge(*, now=None) -> QuerySet:
    return User.objects.filter(
        deleted_at__lte=purge_cutoff(now), purged_at__isnull=True
    ).order_by("deleted_at")


def purge_deleted_accounts(*, dry_run: bool = False, now=None) -> PurgeSummary:
    """Erase accounts soft-deleted longer than the retention period; idempotent."""
    summary = PurgeSummary()
    cutoff = purge_cutoff(now)
    for user_id in due_for_purge(now=now).values_list("pk", flat=True):
        if dry_run:
            summary.purged += 1
            continue
        try:
            with transaction.atomic():
                user = (
                    User.objects.select_for_update(skip_locked=True)
                    .filter(pk=user_id, deleted_at__lte=cutoff, purged_at__isnull=True)
                    .first()
                )
                if user is None:  # restored, or another run has it
                    continue
                erase_user(user=user)
        except Exception:
            logger.exception("could not purge account %s", user_id)
            summary.failed += 1
            summary.failed_ids.append(str(user_id))
            continue
        summary.purged += 1
    return summary
