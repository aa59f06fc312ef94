import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k9$Vx2!qLr8#pZ0wTn4@uYe6^bHc1&sMa7*dFg3(jKo5)lPi-NvB_XmQ=Rt+WzC"


def run_check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"DJANGO_DEBUG": "false", "DJANGO_ALLOWED_HOSTS": "api.example.com"},
            "DJANGO_SECRET_KEY",
        ),
        (
            {
                "DJANGO_DEBUG": "false",
                "DJANGO_SECRET_KEY": "short",
                "DJANGO_ALLOWED_HOSTS": "a.b",
            },
            "too short",
        ),
        (
            {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": STRONG_KEY},
            "DJANGO_ALLOWED_HOSTS",
        ),
        (
            {
                "DJANGO_DEBUG": "false",
                "DJANGO_SECRET_KEY": STRONG_KEY,
                "DJANGO_ALLOWED_HOSTS": "*",
            },
            "DJANGO_ALLOWED_HOSTS",
        ),
    ],
)
def test_production_mode_refuses_unsafe_config(env, message):
    result = run_check(env)

    assert result.returncode != 0
    assert message in result.stderr


def test_production_mode_passes_deploy_checks_without_warnings():
    result = run_check(
        {
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": STRONG_KEY,
            "DJANGO_ALLOWED_HOSTS": "api.example.com",
        },
        "--deploy",
        "--fail-level",
        "WARNING",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
