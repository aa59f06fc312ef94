import pytest


@pytest.fixture
def consenting_user(user):
    from django.utils import timezone

    user.consent_photo_analysis_at = timezone.now()
    user.save(update_fields=["consent_photo_analysis_at"])
    return user


@pytest.fixture
def consenting_client(consenting_user, client_for):
    """Signed in as a consenting user; a 503 comes back as a response, like a 500."""
    client = client_for(consenting_user)
    client.raise_request_exception = False
    return client


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A SeaweedFS server of the test module's own, which its tests may stop."""
    from skincare.testing import seaweedfs_server

    with seaweedfs_server(tmp_path_factory.mktemp("store")) as server:
        yield server


@pytest.fixture
def bucket(store, use_bucket):
    """Media in the module's store, which is running when the test starts."""
    if store.process.poll() is not None:
        store.start()
    use_bucket(store.storage_url())
    return store
