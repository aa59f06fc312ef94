"""The dermatologists' pages driven in a real headless Chromium (Playwright)."""

import os

import pytest
from django.db import connections
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import DEFAULT_PASSWORD
from consultations.tests.factories import (
    ConsultationFactory,
    DermatologistFactory,
    next_weekday,
    paris,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def page(requires_chromium, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls
    # made by the test itself would otherwise be refused as "async unsafe".
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=requires_chromium, args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1024, "height": 768})
        yield context.new_page()
        context.close()
        browser.close()
        # The ORM calls made while the loop ran used their own (context-local)
        # connection; close it so the test database can be dropped.
        connections.close_all()


def test_dermatologist_signs_in_and_confirms_and_patient_sees_it(live_server, page):
    dermatologist = DermatologistFactory()
    monday = next_weekday(0)
    consultation = ConsultationFactory(
        dermatologist=dermatologist, start=paris(monday, 9), reason="Itchy rash"
    )
    ConsultationFactory(
        dermatologist=dermatologist,
        start=paris(monday, 14),
        status="confirmed",
        kind="in_person",
    )

    page.goto(f"{live_server.url}/dermatologist/")
    page.fill("input[name=username]", dermatologist.user.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/dermatologist/")

    page.goto(f"{live_server.url}/dermatologist/?date={monday.isoformat()}")
    page.screenshot(path="/tmp/agenda.png", full_page=True)
    page.click(f"text={consultation.patient.display_name}")
    assert "Itchy rash" in page.content()
    page.click("button:has-text('Confirm')")
    page.wait_for_selector("#status:has-text('Confirmed')")

    client = APIClient()
    token = RefreshToken.for_user(consultation.patient).access_token
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = client.get(f"/api/v1/consultations/{consultation.pk}/").json()
    assert body["status"] == "confirmed"
    assert os.path.getsize("/tmp/agenda.png") > 0
