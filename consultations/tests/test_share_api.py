"""The patient's side of sharing: revoke shares, list who looked at them."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from consultations import services
from consultations.models import SharedAnalysis, SharedAnalysisAccess
from consultations.tests.factories import (
    AnalysisFactory,
    ConsultationFactory,
    SharedAnalysisAccessFactory,
    SharedAnalysisFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def consultation(user):
    user.consent_photo_analysis_at = user.consent_share_with_dermatologists_at = (
        timezone.now()
    )
    user.save()
    return ConsultationFactory(patient=user)


def revoke_url(consultation) -> str:
    return f"/api/v1/consultations/{consultation.pk}/shares/revoke/"


def accesses_url(consultation) -> str:
    return f"/api/v1/consultations/{consultation.pk}/accesses/"


def codes(response) -> list[tuple[str, str | None]]:
    return [(e["code"], e["attr"]) for e in response.json()["errors"]]


# ------------------------------------------------------------------------------
# Revoke
# ------------------------------------------------------------------------------
def test_revoke_without_a_list_revokes_every_share_and_keeps_the_record(
    auth_client, consultation
):
    first = SharedAnalysisFactory(consultation=consultation)
    second = SharedAnalysisFactory(consultation=consultation)

    response = auth_client.post(revoke_url(consultation))

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["shared_analyses"] == []
    assert {s["analysis"] for s in body["shares"]} == {
        str(first.analysis_id),
        str(second.analysis_id),
    }
    assert all(s["revoked_at"] for s in body["shares"])
    assert SharedAnalysis.objects.filter(revoked_at__isnull=False).count() == 2


def test_revoke_of_listed_analyses_leaves_the_others_shared(auth_client, consultation):
    revoked = SharedAnalysisFactory(consultation=consultation)
    kept = SharedAnalysisFactory(consultation=consultation)

    response = auth_client.post(
        revoke_url(consultation), {"analyses": [str(revoked.analysis_id)]}, "json"
    )

    assert response.status_code == 200
    assert response.json()["shared_analyses"] == [str(kept.analysis_id)]
    revoked.refresh_from_db()
    kept.refresh_from_db()
    assert (revoked.revoked_at is not None, kept.revoked_at) == (True, None)


def test_revoking_twice_keeps_the_first_revocation_time(auth_client, consultation):
    share = SharedAnalysisFactory(consultation=consultation)
    auth_client.post(revoke_url(consultation))
    share.refresh_from_db()
    first_revoked_at = share.revoked_at

    response = auth_client.post(revoke_url(consultation))

    assert response.status_code == 200
    share.refresh_from_db()
    assert share.revoked_at == first_revoked_at


def test_revoke_of_an_analysis_not_shared_here_is_refused_and_revokes_nothing(
    auth_client, user, consultation
):
    share = SharedAnalysisFactory(consultation=consultation)
    not_shared = AnalysisFactory(user=user)

    response = auth_client.post(
        revoke_url(consultation),
        {"analyses": [str(share.analysis_id), str(not_shared.pk)]},
        "json",
    )

    assert response.status_code == 400
    assert codes(response) == [("analysis_not_shared", "analyses")]
    share.refresh_from_db()
    assert share.revoked_at is None


def test_revoke_with_an_empty_list_is_refused(auth_client, consultation):
    share = SharedAnalysisFactory(consultation=consultation)

    response = auth_client.post(revoke_url(consultation), {"analyses": []}, "json")

    assert response.status_code == 400
    assert codes(response)[0][1] == "analyses"
    share.refresh_from_db()
    assert share.revoked_at is None


def test_revoke_on_another_patients_consultation_answers_404(auth_client, other_user):
    theirs = ConsultationFactory(patient=other_user)
    share = SharedAnalysisFactory(consultation=theirs)

    response = auth_client.post(revoke_url(theirs))

    assert response.status_code == 404
    share.refresh_from_db()
    assert share.revoked_at is None


def test_revoke_needs_authentication(api_client, consultation):
    assert api_client.post(revoke_url(consultation)).status_code == 401


# ------------------------------------------------------------------------------
# Access log
# ------------------------------------------------------------------------------
def test_patient_lists_who_saw_their_shared_analyses_newest_first(
    auth_client, consultation
):
    share = SharedAnalysisFactory(consultation=consultation)
    older = SharedAnalysisAccessFactory(
        consultation=consultation,
        analysis=share.analysis,
        kind="analysis",
        accessed_at=timezone.now() - timedelta(minutes=5),
    )
    newer = SharedAnalysisAccessFactory(
        consultation=consultation,
        analysis=share.analysis,
        accessed_at=timezone.now(),
    )
    SharedAnalysisAccessFactory(accessed_at=timezone.now())  # someone else's

    response = auth_client.get(accesses_url(consultation))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [a["id"] for a in body["results"]] == [str(newer.pk), str(older.pk)]
    first = body["results"][0]
    assert first["analysis"] == str(share.analysis_id)
    assert first["kind"] == "photo"
    user = consultation.dermatologist.user
    assert first["dermatologist"] == f"Dr {user.get_full_name()}"


def test_a_photo_served_to_the_dermatologist_shows_in_the_patients_list(
    auth_client, consultation, client
):
    share = SharedAnalysisFactory(consultation=consultation)
    client.force_login(consultation.dermatologist.user)
    client.get(
        f"/dermatologist/consultations/{consultation.pk}/analyses/"
        f"{share.analysis_id}/photo/"
    )

    results = auth_client.get(accesses_url(consultation)).json()["results"]

    assert [(a["analysis"], a["kind"]) for a in results] == [
        (str(share.analysis_id), "photo")
    ]


def test_access_list_of_another_patients_consultation_answers_404(
    auth_client, other_user
):
    theirs = ConsultationFactory(patient=other_user)
    SharedAnalysisAccessFactory(consultation=theirs)

    assert auth_client.get(accesses_url(theirs)).status_code == 404


@pytest.mark.parametrize("count", [2, 10])
def test_access_list_query_count_does_not_grow(
    auth_client, consultation, django_assert_num_queries, count
):
    for _ in range(count):
        SharedAnalysisAccessFactory(
            consultation=consultation, accessed_at=timezone.now()
        )

    # user (JWT), consultation (with its prefetched shares), count, page
    with django_assert_num_queries(5):
        response = auth_client.get(accesses_url(consultation))

    assert response.json()["count"] == count


# ------------------------------------------------------------------------------
# Export and erasure
# ------------------------------------------------------------------------------
def test_export_holds_the_accesses_to_the_patients_shares(user, consultation):
    access = SharedAnalysisAccessFactory(consultation=consultation)

    data = services.export_user_data(user=user)

    rows = data["consultations.SharedAnalysisAccess"]
    assert [row["id"] for row in rows] == [str(access.pk)]


def test_erasing_the_patient_deletes_the_accesses_to_their_shares(user, consultation):
    SharedAnalysisAccessFactory(consultation=consultation)
    kept = SharedAnalysisAccessFactory()

    services.erase_user_data(user=user)

    assert list(SharedAnalysisAccess.objects.all()) == [kept]


def test_erasing_the_dermatologist_keeps_the_patients_record_without_them(
    consultation,
):
    access = SharedAnalysisAccessFactory(consultation=consultation)

    services.erase_user_data(user=consultation.dermatologist.user)

    access.refresh_from_db()
    assert access.accessed_by is None
    assert access.consultation_id == consultation.pk


def test_unknown_consultation_id_answers_404(auth_client):
    url = f"/api/v1/consultations/{uuid.uuid4()}"

    assert auth_client.get(f"{url}/accesses/").status_code == 404
    assert auth_client.post(f"{url}/shares/revoke/").status_code == 404
