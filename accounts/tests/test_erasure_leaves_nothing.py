"""Purging an account leaves nothing of the patient in any table or in media storage.

A patient with a full history (photo analyses, a routine with check-ins, bookings
with shared analyses: completed, cancelled, declined and active; notifications and
e-mails with .ics on both sides, some sent, one failed, some held by quiet hours; a
dermatologist who looked at the shared photos) deletes the account, and the purge
runs. Then every text, varchar and JSON column of every table, found by introspection
so that new tables are covered too, is searched for the patient's name, e-mail,
booking texts, the ids of their analyses, routines and steps, their photos' file
names and their user id; and every file under MEDIA_ROOT for the photos' bytes.
"""

import json
import os
from datetime import time, timedelta
from html import escape

import pytest
from django.conf import settings
from django.contrib.admin.sites import site as admin_site
from django.db import connection
from django.test import Client, RequestFactory
from django.test import override_settings as override
from django.urls import reverse
from django.utils import timezone

from accounts.lifecycle import purge_deleted_accounts
from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.helpers import ME_URL
from analysis import services as analysis_services
from analysis.models import Analysis
from analysis.tests.factories import face_jpeg_with_gps
from consultations import services as consultation_services
from consultations.tests.factories import (
    ConsentingPatientFactory,
    DermatologistFactory,
    next_weekday,
    paris,
)
from notifications.models import Delivery, Notification, Preference
from routines import services as routine_services
from routines.tests.factories import RoutineFactory, RoutineStepFactory
from skincare.testing import free_port

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

FIRST, LAST = "Zephyrine", "Quillfeather"
EMAIL = "zephyrine.quillfeather@example.com"
BOOKED = "Itchy patches behind my ears since the holiday"
CANCELLED = "Cancelling: travelling to my sister's wedding"
DECLINED = "Declined: this needs an allergist for the nickel reaction"
NOTES = "Notes: contact dermatitis, likely from the new earrings"
# Text columns holding a generic foreign key (content type + id).
GENERIC_FKS = {("django_admin_log", "object_id")}
TEXT_TYPES = {"CharField", "TextField", "JSONField", "SlugField", "EmailField"}


def text_columns() -> dict[str, list[tuple[str, bool]]]:
    """Per table: its text-like columns and whether each is a FK to the user table."""
    user_table = settings.AUTH_USER_MODEL.replace(".", "_").lower()
    columns = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            relations = connection.introspection.get_relations(cursor, table)
            found = []
            for column in connection.introspection.get_table_description(cursor, table):
                kind = connection.introspection.get_field_type(column.type_code, column)
                if kind in TEXT_TYPES:
                    points_at = relations.get(column.name, (None, None))[1]
                    found.append((column.name, points_at == user_table))
            if found:
                columns[table] = found
    return columns


def search_database(needles: list[str], *, user_id_needles: list[str], tombstone):
    """Every (table, column, needle) where a needle occurs, case-insensitively.

    The user id may appear only where it is expected: the anonymised account row's
    own columns (its pk, and the placeholder address derived from it), FK columns
    that point at that row, and the admin log's generic FK (``object_id``) to it.
    """
    quote = connection.ops.quote_name
    user_table = settings.AUTH_USER_MODEL.replace(".", "_").lower()
    tombstone_ids = {str(tombstone.pk), tombstone.pk.hex}
    hits = []
    with connection.cursor() as cursor:
        for table, columns in text_columns().items():
            names = ", ".join(quote(name) for name, _ in columns)
            has_id = table == user_table
            select = f"SELECT {names}{', ' + quote('id') if has_id else ''}"
            cursor.execute(f"{select} FROM {quote(table)}")
            for row in cursor.fetchall():
                own_row = has_id and str(row[-1]).replace("-", "") in {
                    i.replace("-", "") for i in tombstone_ids
                }
                for (name, is_user_fk), value in zip(columns, row, strict=False):
                    if value is None:
                        continue
                    text = (
                        value
                        if isinstance(value, str)
                        else json.dumps(value, default=str)
                    ).lower()
                    for needle in needles:
                        if needle.lower() in text or escape(needle).lower() in text:
                            hits.append((table, name, needle))
                    if own_row or is_user_fk or (table, name) in GENERIC_FKS:
                        continue
                    for needle in user_id_needles:
                        if needle.lower() in text:
                            hits.append((table, name, "user id"))
    return hits


def media_files(root) -> dict[str, bytes]:
    """Every file of the media storage (the folder or the bucket) by name."""
    from django.core.files.storage import default_storage

    from skincare.storage import walk

    files = {}
    for name in walk(default_storage):
        with default_storage.open(name, "rb") as handle:
            files[name] = handle.read()
    return files


def build_patient_with_full_history(settings, capture) -> dict:
    """Everything a patient leaves behind, through the services and pages."""
    settings.CONSULTATION_MAX_ACTIVE_PER_PATIENT = 20
    settings.CONSULTATION_MAX_ACTIVE_PER_PAIR = 20
    patient = ConsentingPatientFactory(first_name=FIRST, last_name=LAST, email=EMAIL)
    derm = DermatologistFactory()
    # analyses with photos really stored (and analysed) through the service
    with capture(execute=True):
        analyses = [
            analysis_services.create_analysis(user=patient, photo=face_jpeg_with_gps())
            for _ in range(2)
        ]
    for analysis in analyses:
        analysis.refresh_from_db()
        assert analysis.status == Analysis.Status.COMPLETED, analysis.failure_detail
    # a routine named after her, with a step and a check-in
    routine = RoutineFactory(user=patient, name=f"{FIRST}'s evening", period="pm")
    step = RoutineStepFactory(routine=routine, name=f"{FIRST}'s serum")
    routine_services.check_in(routine=routine, step_ids=[step.pk])

    def book(day: int, hour: int, reason: str, shared=()):
        return consultation_services.book_consultation(
            patient=patient,
            dermatologist=derm,
            kind="video",
            start=paris(next_weekday(day), hour),
            reason=reason,
            analysis_ids=[a.pk for a in shared],
            consent_to_share=True,
        )

    with capture(execute=True):
        # completed, with shared photo, .ics sent to both
        held = book(0, 9, BOOKED, shared=analyses[:1])
        consultation_services.confirm_consultation(consultation=held, by=derm.user)
        consultation_services.complete_consultation(
            consultation=held,
            by=derm.user,
            notes=NOTES,
            recommended_routine=f"For {FIRST}: a gentle cleanser",
            now=held.start + timedelta(minutes=20),
        )
        # cancelled by the patient with a reason
        cancelled = book(1, 9, BOOKED)
        consultation_services.cancel_consultation(
            consultation=cancelled, by=patient, reason=CANCELLED
        )
    # declined while the SMTP server refuses: e-mails on both sides fail for good
    settings.NOTIFICATION_EMAIL_MAX_ATTEMPTS = 1
    with (
        override(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=free_port(),
            EMAIL_TIMEOUT=2,
        ),
        capture(execute=True),
    ):
        declined = book(2, 9, BOOKED)
        consultation_services.decline_consultation(
            consultation=declined, by=derm.user, reason=DECLINED
        )
    # active at purge time; the dermatologist's mail is held by quiet hours
    Preference.objects.create(
        user=derm.user, quiet_hours_start=time(0), quiet_hours_end=time(23, 59)
    )
    with capture(execute=True):
        active = book(3, 9, BOOKED, shared=analyses[1:])
        consultation_services.confirm_consultation(consultation=active, by=derm.user)
    # the dermatologist looks at the shared analysis and its photo
    page = Client()
    page.force_login(derm.user)
    detail = reverse("dermatologist:consultation", args=[active.pk])
    assert page.get(detail).status_code == 200
    photo = reverse("dermatologist:shared-photo", args=[active.pk, analyses[1].pk])
    assert page.get(photo).status_code == 200

    # staff edited her account in the admin (its audit trail names the object)
    staff = UserFactory(is_staff=True, is_superuser=True)
    request = RequestFactory().post("/admin/")
    request.user = staff
    admin_site._registry[User].log_change(
        request, patient, [{"changed": {"fields": ["First name"]}}]
    )

    statuses = set(Delivery.objects.values_list("status", flat=True))
    assert statuses >= {"sent", "failed", "pending"}, statuses
    assert Delivery.objects.filter(
        notification__recipient=derm.user, attachments__0__filename="consultation.ics"
    ).exists()
    assert Notification.objects.filter(recipient=derm.user).count() >= 4
    return {
        "patient": patient,
        "derm": derm,
        "analyses": analyses,
        "routine": routine,
        "step": step,
        "photos": [a.photo.name for a in analyses],
        "photo_bytes": [analysis_services.read_photo(analysis=a) for a in analyses],
    }


def test_purged_patient_leaves_no_trace_in_any_table_or_in_media(
    settings, media_root, eager_celery, client_for, django_capture_on_commit_callbacks
):
    # given: a patient with a full history, who deletes the account
    history = build_patient_with_full_history(
        settings, django_capture_on_commit_callbacks
    )
    patient = history["patient"]
    photo_bytes = history["photo_bytes"]
    assert all(photo_bytes)
    needles = [FIRST, LAST, EMAIL, BOOKED, CANCELLED, DECLINED, NOTES]
    for obj in [*history["analyses"], history["routine"], history["step"]]:
        needles += [str(obj.pk), obj.pk.hex]
    for name in history["photos"]:
        needles += [name, os.path.basename(name)]
    user_ids = [str(patient.pk), patient.pk.hex]
    # the search finds what is there before the purge
    assert {
        needle
        for _, _, needle in search_database(
            needles, user_id_needles=user_ids, tombstone=patient
        )
    } >= {FIRST, EMAIL, BOOKED, CANCELLED, DECLINED, NOTES}
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(patient).delete(
            ME_URL, {"password": DEFAULT_PASSWORD}, format="json"
        )
    assert response.status_code == 204, response.content

    # when: the purge runs after the retention period
    later = timezone.now() + timedelta(days=settings.ACCOUNT_PURGE_AFTER_DAYS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        summary = purge_deleted_accounts(now=later)

    # then: nothing of hers is in any table
    assert summary.purged == 1
    patient.refresh_from_db()
    assert patient.purged_at is not None
    hits = search_database(needles, user_id_needles=user_ids, tombstone=patient)
    assert hits == []
    # nor in media storage, by name or by content
    files = media_files(media_root)
    for path, content in files.items():
        assert content not in photo_bytes, path
        assert not any(os.path.basename(n) in path for n in history["photos"])
    # and the dermatologist keeps their records, without her in them
    kept = Notification.objects.filter(recipient=history["derm"].user)
    assert kept.filter(body__contains="A former patient").exists()
    assert not kept.filter(about__isnull=False).exists()
