import pytest

from skincare.celery import app as celery_app


@pytest.fixture
def media_root(settings, tmp_path):
    """A private, empty MEDIA_ROOT for the test."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture
def eager_celery():
    """Tasks run in process, whatever the environment's broker settings."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def consenting_user(user):
    from django.utils import timezone

    user.consent_photo_analysis_at = timezone.now()
    user.save(update_fields=["consent_photo_analysis_at"])
    return user
