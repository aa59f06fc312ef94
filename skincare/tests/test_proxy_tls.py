"""Production mode behind a TLS-terminating proxy: HTTPS redirect and HSTS."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k9$Vx2!qLr8#pZ0wTn4@uYe6^bHc1&sMa7*dFg3(jKo5)lPi-NvB_XmQ=Rt+WzC"

# Runs in a fresh interpreter: production settings are decided at import time.
PROBE = """
import json, django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="api.example.com")
plain = client.get("/api/v1/users/me/")
forwarded = client.get("/health/live/", HTTP_X_FORWARDED_PROTO="https")
probe = client.get("/health/live/")
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location")],
    "forwarded": [forwarded.status_code, forwarded.get("Strict-Transport-Security")],
    "probe": [probe.status_code, probe.get("Strict-Transport-Security")],
}))
"""


def test_production_redirects_http_to_https_and_sends_hsts_behind_a_proxy():
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "skincare.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": STRONG_KEY,
            "DJANGO_ALLOWED_HOSTS": "api.example.com",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    assert seen["plain"] == [301, "https://api.example.com/api/v1/users/me/"]
    status, hsts = seen["forwarded"]
    assert status == 200
    assert hsts == "max-age=31536000; includeSubDomains; preload"
    # the load balancer's plain-http health probe is neither redirected nor given HSTS
    assert seen["probe"] == [200, None]
