"""Keys, fake FCM/APNs servers and settings pointing at them."""

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from push import senders
from push import services as push_services
from push.tests.fakes import FakeApns, FakeFcm, ServerThread

PROJECT_ID = "skincare-test"
CLIENT_EMAIL = "push@skincare-test.iam.gserviceaccount.com"
KEY_ID = "ABC123DEFG"
TEAM_ID = "TEAM123456"
TOPIC = "com.example.skincare"


def _pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _public_pem(key) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass
class Keys:
    fcm_file: Path  # the service-account key the fake FCM trusts
    fcm_public: bytes
    fcm_untrusted_file: Path  # a well-formed key the fake does not know
    apns_file: Path
    apns_public: bytes
    apns_untrusted_file: Path


def _service_account(path: Path, key) -> None:
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": PROJECT_ID,
                "private_key_id": "k1",
                "private_key": _pem(key).decode(),
                "client_email": CLIENT_EMAIL,
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )


@pytest.fixture(scope="session")
def keys(tmp_path_factory) -> Keys:
    folder = tmp_path_factory.mktemp("push-keys")
    fcm = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fcm_other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    apns = ec.generate_private_key(ec.SECP256R1())
    apns_other = ec.generate_private_key(ec.SECP256R1())
    _service_account(folder / "fcm.json", fcm)
    _service_account(folder / "fcm-untrusted.json", fcm_other)
    (folder / "apns.p8").write_bytes(_pem(apns))
    (folder / "apns-untrusted.p8").write_bytes(_pem(apns_other))
    return Keys(
        fcm_file=folder / "fcm.json",
        fcm_public=_public_pem(fcm),
        fcm_untrusted_file=folder / "fcm-untrusted.json",
        apns_file=folder / "apns.p8",
        apns_public=_public_pem(apns),
        apns_untrusted_file=folder / "apns-untrusted.p8",
    )


@pytest.fixture(autouse=True)
def _fresh_push_state():
    """Each test builds its senders and credentials anew (they are process caches)."""
    for cache in (
        push_services._senders,
        senders._access_tokens,
        senders._provider_tokens,
    ):
        cache.clear()
    yield
    for client in senders._clients.values():
        client.close()
    senders._clients.clear()


@pytest.fixture
def fake_fcm(keys):
    app = FakeFcm(
        public_key=keys.fcm_public, client_email=CLIENT_EMAIL, project_id=PROJECT_ID
    )
    server = ServerThread(app).start()
    yield app
    server.stop()


@pytest.fixture
def fake_apns(keys):
    app = FakeApns(
        public_key=keys.apns_public, key_id=KEY_ID, team_id=TEAM_ID, topic=TOPIC
    )
    server = ServerThread(app).start()
    yield app
    server.stop()


def push_env(keys: Keys, fake_fcm: FakeFcm, fake_apns: FakeApns) -> dict[str, str]:
    """The settings (as environment variables) that point at the fakes."""
    return {
        "FCM_SERVICE_ACCOUNT_FILE": str(keys.fcm_file),
        "FCM_BASE_URL": fake_fcm.url,
        "FCM_TOKEN_URL": fake_fcm.token_url,
        "APNS_KEY_FILE": str(keys.apns_file),
        "APNS_KEY_ID": KEY_ID,
        "APNS_TEAM_ID": TEAM_ID,
        "APNS_TOPIC": TOPIC,
        "APNS_HOST": fake_apns.url,
        "PUSH_TIMEOUT_SECONDS": "5",
    }


@pytest.fixture
def push_configured(settings, keys, fake_fcm, fake_apns):
    """This process's settings point at both fakes."""
    for name, value in push_env(keys, fake_fcm, fake_apns).items():
        timeout = name == "PUSH_TIMEOUT_SECONDS"
        setattr(settings, name, float(value) if timeout else value)
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 1
    return settings
