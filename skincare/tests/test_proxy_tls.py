"""Production mode behind a TLS-terminating proxy: which forwarded headers count.

Production settings are decided at import time, so each test runs a fresh interpreter.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k9$Vx2!qLr8#pZ0wTn4@uYe6^bHc1&sMa7*dFg3(jKo5)lPi-NvB_XmQ=Rt+WzC"
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "skincare.settings",
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": STRONG_KEY,
    "DJANGO_ALLOWED_HOSTS": "api.example.com",
    "EMAIL_URL": "smtp://mail.example.com:587",
}
# Variables of the developer's shell that would change what is tested.
OURS = (
    "EMAIL_URL",
    "BENCH_VIEWS",
    "TRUSTED_PROXIES",
    "THROTTLE_NUM_PROXIES",
    "USE_X_FORWARDED_HOST",
    "USE_X_FORWARDED_PORT",
)

PROBE = """
import json, django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="api.example.com")
def seen(response):
    return [response.status_code, response.get("Location"),
            response.get("Strict-Transport-Security")]
print(json.dumps({
    "plain": seen(client.get("/api/v1/users/me/")),
    "forwarded": seen(client.get("/health/live/", HTTP_X_FORWARDED_PROTO="https")),
    "probe": seen(client.get("/health/live/")),
    "forwarded_host": seen(client.get(
        "/api/v1/users/me/", HTTP_X_FORWARDED_HOST="evil.example.net"
    )),
    "forged_host": seen(client.get("/api/v1/users/me/", HTTP_HOST="evil.example.net")),
}))
"""


def run(env: dict[str, str], code: str = PROBE) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DJANGO_") and k not in OURS
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **PRODUCTION, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def probe(env: dict[str, str]) -> dict:
    result = run(env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_redirects_http_to_https_and_sends_hsts_behind_a_proxy():
    seen = probe({"TRUSTED_PROXIES": "1"})

    assert seen["plain"] == [301, "https://api.example.com/api/v1/users/me/", None]
    status, _, hsts = seen["forwarded"]
    assert status == 200
    assert hsts == "max-age=31536000; includeSubDomains; preload"
    # the load balancer's plain-http health probe is neither redirected nor given HSTS
    assert seen["probe"] == [200, None, None]


def test_production_without_trusted_proxies_ignores_a_client_claiming_https():
    seen = probe({})

    # not taken for https: no HSTS (a TLS proxy must be declared, or pages loop)
    assert seen["forwarded"] == [200, None, None]


def test_forged_host_is_refused_and_x_forwarded_host_does_not_change_urls():
    for env in ({}, {"TRUSTED_PROXIES": "1"}):
        seen = probe(env)

        assert seen["forged_host"][0] == 400
        assert seen["forwarded_host"][:2] == [
            301,
            "https://api.example.com/api/v1/users/me/",
        ]


def test_production_refuses_the_old_throttle_num_proxies_setting():
    result = run({"THROTTLE_NUM_PROXIES": "1"}, "import django; django.setup()")

    assert result.returncode != 0
    assert "THROTTLE_NUM_PROXIES was replaced by TRUSTED_PROXIES" in result.stderr


def test_production_refuses_forwarded_host_or_port_without_trusted_proxies():
    for variable in ("USE_X_FORWARDED_HOST", "USE_X_FORWARDED_PORT"):
        result = run({variable: "true"}, "import django; django.setup()")

        assert result.returncode != 0
        assert "set TRUSTED_PROXIES" in result.stderr


def test_production_accepts_forwarded_host_behind_trusted_proxies():
    result = run(
        {"USE_X_FORWARDED_HOST": "true", "TRUSTED_PROXIES": "1"},
        "import django; django.setup()",
    )

    assert result.returncode == 0, result.stderr
