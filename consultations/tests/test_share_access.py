"""A dermatologist sees a shared analysis only while the patient's consent holds.

Each way the access ends is checked on both doors: the consultation page and the
photo URL. The rule itself lives in `selectors.visible_shares`.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import DEFAULT_PASSWORD
from consultations import services
from consultations.models import SharedAnalysis, SharedAnalysisAccess
from consultations.tests.factories import (
    AnalysisFactory,
    ConsultationFactory,
    DermatologistFactory,
    SharedAnalysisFactory,
    next_weekday,
    paris,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def share(dermatologist):
    consultation = ConsultationFactory(dermatologist=dermatologist)
    return SharedAnalysisFactory(consultation=consultation)


def photo_url(share) -> str:
    return reverse(
        "dermatologist:shared-photo", args=[share.consultation_id, share.analysis_id]
    )


def page(derm_client, share) -> str:
    response = derm_client.get(
        reverse("dermatologist:consultation", args=[share.consultation_id])
    )
    assert response.status_code == 200
    return response.content.decode()


def assert_visible(derm_client, share) -> None:
    html = page(derm_client, share)
    assert photo_url(share) in html
    assert "skin type oily" in html
    response = derm_client.get(photo_url(share))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8")


def assert_hidden(derm_client, share) -> None:
    html = page(derm_client, share)
    assert photo_url(share) not in html
    assert "skin type oily" not in html
    assert derm_client.get(photo_url(share)).status_code == 404


@pytest.mark.parametrize("status", ["requested", "confirmed"])
def test_active_consultation_shows_the_shared_analysis_and_photo(
    derm_client, share, status
):
    share.consultation.status = status
    share.consultation.save(update_fields=["status"])

    assert_visible(derm_client, share)


@pytest.mark.parametrize("status", ["completed", "cancelled", "declined", "no_show"])
def test_dermatologist_cannot_see_shares_of_an_ended_consultation(
    derm_client, share, status
):
    assert_visible(derm_client, share)
    share.consultation.status = status
    share.consultation.save(update_fields=["status"])

    assert_hidden(derm_client, share)


def test_patient_cancelling_ends_the_dermatologists_access(
    derm_client, share, client_for
):
    patient = share.consultation.patient

    response = client_for(patient).post(
        f"/api/v1/consultations/{share.consultation_id}/cancel/"
    )

    assert response.status_code == 200, response.json()
    assert_hidden(derm_client, share)


def test_declining_ends_the_dermatologists_access(derm_client, share):
    derm_client.post(
        reverse("dermatologist:decline", args=[share.consultation_id]),
        {"reason": "Outside my specialty"},
    )

    share.consultation.refresh_from_db()
    assert share.consultation.status == "declined"
    assert_hidden(derm_client, share)


def test_patients_revoke_ends_the_dermatologists_access(derm_client, share, client_for):
    response = client_for(share.consultation.patient).post(
        f"/api/v1/consultations/{share.consultation_id}/shares/revoke/"
    )

    assert response.status_code == 200, response.json()
    assert_hidden(derm_client, share)


def test_revoking_one_analysis_leaves_the_others_visible(derm_client, share):
    other = SharedAnalysisFactory(consultation=share.consultation)

    services.revoke_shares(
        consultation=share.consultation, analysis_ids=[share.analysis_id]
    )

    assert derm_client.get(photo_url(share)).status_code == 404
    assert derm_client.get(photo_url(other)).status_code == 200
    assert photo_url(other) in page(derm_client, other)


@pytest.mark.parametrize(
    "consent", ["consent_share_with_dermatologists", "consent_photo_analysis"]
)
def test_withdrawing_consent_ends_the_dermatologists_access(
    derm_client, share, client_for, consent
):
    response = client_for(share.consultation.patient).patch(
        "/api/v1/users/me/", {consent: False}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert_hidden(derm_client, share)


def test_giving_consent_again_does_not_revive_shares_made_before_withdrawal(
    derm_client, share, client_for
):
    client = client_for(share.consultation.patient)
    client.patch(
        "/api/v1/users/me/", {"consent_share_with_dermatologists": False}, format="json"
    )
    client.patch(
        "/api/v1/users/me/", {"consent_share_with_dermatologists": True}, format="json"
    )

    assert_hidden(derm_client, share)


def test_withdrawing_photo_consent_keeps_a_questionnaire_only_share_visible(
    derm_client, dermatologist, client_for
):
    consultation = ConsultationFactory(dermatologist=dermatologist)
    share = SharedAnalysisFactory(
        consultation=consultation,
        analysis=AnalysisFactory(user=consultation.patient),
    )
    client_for(consultation.patient).patch(
        "/api/v1/users/me/", {"consent_photo_analysis": False}, format="json"
    )

    assert "skin type oily" in page(derm_client, share)


@pytest.mark.usefixtures("fast_password_hashing")
def test_deleting_the_account_ends_the_dermatologists_access(
    derm_client, share, client_for
):
    response = client_for(share.consultation.patient).delete(
        "/api/v1/users/me/", {"password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == 204
    assert_hidden(derm_client, share)


def test_deactivated_account_ends_the_dermatologists_access(derm_client, share):
    patient = share.consultation.patient
    patient.is_active = False
    patient.save(update_fields=["is_active"])

    assert_hidden(derm_client, share)


def test_a_held_consultation_still_shows_while_confirmed_after_its_start(
    derm_client, dermatologist
):
    """Until the dermatologist completes it, a started consultation is active."""
    consultation = ConsultationFactory(
        dermatologist=dermatologist,
        status="confirmed",
        start=timezone.now() - timedelta(minutes=10),
    )
    share = SharedAnalysisFactory(consultation=consultation)

    assert_visible(derm_client, share)


# ------------------------------------------------------------------------------
# The access log
# ------------------------------------------------------------------------------
def test_photo_view_records_who_saw_which_photo_when(derm_client, share, dermatologist):
    before = timezone.now()

    derm_client.get(photo_url(share))

    access = SharedAnalysisAccess.objects.get(kind="photo")
    assert access.accessed_by == dermatologist.user
    assert access.consultation_id == share.consultation_id
    assert access.analysis_id == share.analysis_id
    assert before <= access.accessed_at <= timezone.now()


def test_detail_page_records_each_shared_analysis_shown(derm_client, share):
    other = SharedAnalysisFactory(consultation=share.consultation)

    page(derm_client, share)

    accesses = SharedAnalysisAccess.objects.filter(kind="analysis")
    assert {a.analysis_id for a in accesses} == {share.analysis_id, other.analysis_id}


def test_refused_access_is_not_recorded_as_an_access(derm_client, share):
    services.revoke_shares(consultation=share.consultation)

    page(derm_client, share)
    derm_client.get(photo_url(share))

    assert not SharedAnalysisAccess.objects.exists()


def test_another_dermatologists_photo_request_is_refused_and_not_recorded(share):
    intruder = Client()
    intruder.force_login(DermatologistFactory().user)

    assert intruder.get(photo_url(share)).status_code == 404
    assert not SharedAnalysisAccess.objects.exists()


def test_consent_given_at_booking_is_kept_and_lets_the_dermatologist_see_the_share(
    client_for, user, dermatologist, derm_client
):
    analysis = AnalysisFactory(user=user, with_photo=True)
    user.consent_photo_analysis_at = analysis.created_at
    user.save(update_fields=["consent_photo_analysis_at"])

    response = client_for(user).post(
        "/api/v1/consultations/",
        {
            "dermatologist": str(dermatologist.pk),
            "start": paris(next_weekday(0), 9).isoformat(),
            "type": "video",
            "analyses": [str(analysis.pk)],
            "consent_share_with_dermatologists": True,
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    user.refresh_from_db()
    assert user.consent_share_with_dermatologists_at is not None
    share = SharedAnalysis.objects.get(analysis=analysis)
    assert share.consent_given_at == user.consent_share_with_dermatologists_at
    assert_visible(derm_client, share)


def test_admin_shows_the_access_log_read_only(admin_client, derm_client, share):
    derm_client.get(photo_url(share))

    response = admin_client.get(
        reverse("admin:consultations_consultation_change", args=[share.consultation_id])
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "shared analysis accesses" in html.lower()
    assert 'name="share_accesses-0-kind"' not in html
