import pytest


@pytest.fixture
def consenting_user(user):
    from django.utils import timezone

    user.consent_photo_analysis_at = timezone.now()
    user.save(update_fields=["consent_photo_analysis_at"])
    return user
