import pytest
from django.test import Client

from consultations.tests.factories import DermatologistFactory


@pytest.fixture
def dermatologist():
    """A verified dermatologist's profile with the factory's hours and types."""
    return DermatologistFactory()


@pytest.fixture
def derm_client(dermatologist) -> Client:
    """A browser session signed in as that dermatologist."""
    client = Client()
    client.force_login(dermatologist.user)
    return client
