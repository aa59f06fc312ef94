import json
from datetime import timedelta

import pytest
from django.utils import timezone

from consultations import services
from consultations.models import Consultation, SharedAnalysis
from consultations.tests.factories import (
    AnalysisFactory,
    ConsultationFactory,
    DermatologistFactory,
)

pytestmark = pytest.mark.django_db


def test_export_holds_the_patients_rows_as_json_safe_dicts(user):
    consultation = ConsultationFactory(patient=user)
    consultation.shares.create(
        analysis=AnalysisFactory(user=user), consent_given_at=timezone.now()
    )
    ConsultationFactory()

    data = services.export_user_data(user=user)

    json.dumps(data)
    [row] = data["consultations.Consultation"]
    assert row["id"] == str(consultation.pk)
    assert row["fee"] == "60.00"
    assert len(data["consultations.SharedAnalysis"]) == 1
    assert "consultations.Dermatologist" not in data


def test_export_of_a_dermatologist_includes_the_profile():
    dermatologist = DermatologistFactory()

    data = services.export_user_data(user=dermatologist.user)

    assert data["consultations.Dermatologist"][0]["id"] == str(dermatologist.pk)
    assert len(data["consultations.WeeklyHours"]) == 10


def test_erase_anonymises_bookings_removes_shares_and_frees_slots(user):
    past = ConsultationFactory(
        patient=user,
        status="completed",
        start=timezone.now() - timedelta(days=3),
        notes="Private notes",
    )
    past.shares.create(
        analysis=AnalysisFactory(user=user), consent_given_at=timezone.now()
    )
    future = ConsultationFactory(patient=user, status="confirmed")

    services.erase_user_data(user=user)

    past.refresh_from_db()
    future.refresh_from_db()
    assert (past.patient, past.reason, past.notes) == (None, "", "")
    assert past.anonymised_at is not None
    assert not SharedAnalysis.objects.exists()
    assert future.status == "cancelled"
    assert not Consultation.objects.filter(patient=user).exists()
