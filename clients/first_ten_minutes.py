"""A mobile developer's first ten minutes, with the generated Python client.

Register, sign in, consent to photo analysis, upload a face photo and read the result.
README ("The API for mobile apps") shows how to generate `skincare_api_client` and run
this; skincare/tests/test_generated_client.py runs this very function against a live
server, so the README's steps are tested.

    python clients/first_ten_minutes.py http://127.0.0.1:8000 var/faces/biden.jpg
"""
# ruff: noqa: T201 (a script that shows what it does)

import io
import secrets
import sys
import time
from pathlib import Path

from skincare_api_client import AuthenticatedClient, Client
from skincare_api_client.api.accounts import register, sign_in, update_profile
from skincare_api_client.api.analysis import create_analysis, get_analysis
from skincare_api_client.models import (
    Analysis,
    AnalysisCreateMultipartRequest,
    AnalysisStatusEnum,
    PatchedProfileRequest,
    RegisterRequest,
    SignInRequest,
)
from skincare_api_client.types import File

WAITING = (AnalysisStatusEnum.PENDING, AnalysisStatusEnum.PROCESSING)


def first_ten_minutes(
    base_url: str, photo: bytes, *, email: str, password: str, wait: float = 120
) -> Analysis:
    """The new user's analysis, once it has finished (completed or failed)."""
    client = Client(base_url=base_url, raise_on_unexpected_status=True)

    # 1. Register (201: the profile) and sign in (200: an access and a refresh token).
    profile = register.sync(
        client=client,
        body=RegisterRequest(
            email=email, password=password, first_name="Ada", timezone="Europe/London"
        ),
    )
    print(f"registered {profile.email} ({profile.id}), time zone {profile.timezone}")
    tokens = sign_in.sync(
        client=client, body=SignInRequest(email=email, password=password)
    )
    me = AuthenticatedClient(
        base_url=base_url, token=tokens.access, raise_on_unexpected_status=True
    )

    # 2. Photos are analysed only with the user's consent.
    update_profile.sync(
        client=me, body=PatchedProfileRequest(consent_photo_analysis=True)
    )

    # 3. Upload (multipart): 202 with the analysis id; a worker analyses the photo.
    upload = File(payload=io.BytesIO(photo), file_name="face.jpg")
    accepted = create_analysis.sync(
        client=me, body=AnalysisCreateMultipartRequest(photo=upload)
    )
    print(f"analysis {accepted.id}: {accepted.status}")

    # 4. Poll until it is done.
    deadline = time.monotonic() + wait
    analysis = get_analysis.sync(client=me, id=accepted.id)
    while analysis.status in WAITING and time.monotonic() < deadline:
        time.sleep(1)
        analysis = get_analysis.sync(client=me, id=accepted.id)
    print(f"analysis {analysis.id}: {analysis.status.value}")
    for concern, score in analysis.scores.to_dict().items():
        print(f"  {concern:<14} {score['score']:>3}  {score['band']}")
    return analysis


if __name__ == "__main__":
    base_url, photo_path = sys.argv[1], Path(sys.argv[2])
    first_ten_minutes(
        base_url,
        photo_path.read_bytes(),
        email=f"dev-{secrets.token_hex(4)}@example.com",
        password=secrets.token_urlsafe(16),
    )
