"""A mobile developer's first ten minutes, with the client generated from the schema.

openapi-python-client generates a package from the schema a live server serves, as
the README says; clients/first_ten_minutes.py (the README's script) then uses it as an
app would: register, sign in, consent to photo analysis, upload a real face photo and
read the analysis result.
"""

import importlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from analysis.tests.factories import face_jpeg_with_gps

CLIENTS = Path(settings.BASE_DIR) / "clients"
CONFIG = CLIENTS / "openapi-python-client.yaml"
SCRIPT = CLIENTS / "first_ten_minutes.py"
PASSWORD = "a-Decent-passphrase-42"


@pytest.fixture(scope="session")
def generated_client(live_server, tmp_path_factory, django_db_blocker):
    """The `skincare_api_client` package, generated from the live server's schema."""
    out = tmp_path_factory.mktemp("generated-client")
    schema = out / "openapi.yaml"
    # The server thread checks its database connection on every request.
    with django_db_blocker.unblock():
        served = httpx.get(f"{live_server.url}/api/v1/schema/", timeout=60)
    assert served.status_code == 200, served.text[:2000]
    schema.write_bytes(served.content)
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(
        [
            bin_dir / "openapi-python-client",
            "generate",
            "--path",
            schema,
            "--config",
            CONFIG,
            "--meta",
            "none",
            "--output-path",
            out / "skincare_api_client",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "warning" not in output.lower(), output
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("skincare_api_client")
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m.startswith("skincare_api_client")]:
            del sys.modules[name]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_readme_first_ten_minutes_register_sign_in_upload_and_read_the_result(
    generated_client, live_server, media_root, eager_celery
):
    from skincare_api_client.models import AnalysisStatusEnum

    from accounts.models import User

    spec = importlib.util.spec_from_file_location("first_ten_minutes", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)

    # given a face photo; when the README's script runs against a live server
    analysis = script.first_ten_minutes(
        live_server.url,
        face_jpeg_with_gps(),
        email="ada@example.com",
        password=PASSWORD,
        wait=60,
    )

    # then the new user's analysis completed with scores for every concern
    assert analysis.status == AnalysisStatusEnum.COMPLETED, analysis.failure_code
    scores = analysis.scores.to_dict()
    assert {"redness", "shine", "texture"} <= set(scores)
    assert all(0 <= score["score"] <= 100 for score in scores.values())
    user = User.objects.get(email="ada@example.com")
    assert (user.first_name, user.timezone) == ("Ada", "Europe/London")
    assert user.consent_photo_analysis_at is not None
    assert user.analyses.get().pk == analysis.id


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_generated_client_reads_a_validation_error_as_its_documented_model(
    generated_client, live_server
):
    from skincare_api_client import Client
    from skincare_api_client.api.accounts import register
    from skincare_api_client.models import RegisterRequest, RegisterValidationError

    from accounts.models import User

    client = Client(base_url=live_server.url, raise_on_unexpected_status=True)

    answer = register.sync(
        client=client,
        body=RegisterRequest(
            email="ada@example.com", password=PASSWORD, timezone="Mars/Olympus_Mons"
        ),
    )

    assert isinstance(answer, RegisterValidationError), answer
    [error] = answer.errors
    assert (error.attr.value, error.code.value) == ("timezone", "invalid_choice")
    assert not User.objects.exists()
