import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k9$Vx2!qLr8#pZ0wTn4@uYe6^bHc1&sMa7*dFg3(jKo5)lPi-NvB_XmQ=Rt+WzC"
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": STRONG_KEY,
    "DJANGO_ALLOWED_HOSTS": "api.example.com",
    "EMAIL_URL": "smtp://mail.example.com:587",
}


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DJANGO_") and k not in ("EMAIL_URL", "BENCH_VIEWS")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return manage(env, "check", *args)


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


def test_without_django_debug_the_platform_runs_in_production_mode():
    result = run_check({})

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set in production mode" in result.stderr


@pytest.mark.parametrize("email_url", ["", "consolemail://", "dummymail://"])
def test_production_mode_refuses_an_email_backend_that_delivers_nothing(email_url):
    env = {**PRODUCTION, "EMAIL_URL": email_url}
    if not email_url:
        del env["EMAIL_URL"]

    result = run_check(env)

    assert result.returncode != 0
    assert "EMAIL_URL must name an SMTP server" in result.stderr


def test_production_mode_refuses_bench_views():
    result = run_check({**PRODUCTION, "BENCH_VIEWS": "true"})

    assert result.returncode != 0
    assert "BENCH_VIEWS is not a production setting" in result.stderr


def test_bench_views_are_mounted_only_by_the_bench_settings():
    from django.urls import NoReverseMatch, reverse

    with pytest.raises(NoReverseMatch):
        reverse("bench-routines")
    result = manage(
        {**PRODUCTION, "DJANGO_SETTINGS_MODULE": "bench.settings"},
        "shell",
        "--no-imports",
        "-c",
        "from django.urls import reverse; print(reverse('bench-routines'))",
    )
    assert result.stdout.strip() == "/bench/routines/", result.stderr


def test_deploy_check_fails_while_a_demo_account_exists(tmp_path):
    database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}"}
    development = {"DJANGO_DEBUG": "true", **database}
    assert manage(development, "migrate", "--noinput").returncode == 0

    clean = run_check({**PRODUCTION, **database}, "--deploy", "--fail-level", "WARNING")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "no issues" in clean.stdout

    seeded = manage(development, "seed_demo")
    assert seeded.returncode == 0, seeded.stderr
    dirty = run_check({**PRODUCTION, **database}, "--deploy")

    assert dirty.returncode != 0
    assert "accounts.E001" in dirty.stderr
    assert "patient@skincare.local" in dirty.stderr


ENV_EXAMPLE = (ROOT / ".env.example").read_text()
# Made at run time (media, backups, SQLite) or fetched by `make install` (models).
MADE_AT_RUN_TIME = ("var/", "db.sqlite3", "/tmp/")


def test_env_example_names_only_files_that_exist():
    import re

    named = set(
        re.findall(r"[\w.-]*[\w-]+/[\w./-]*\w|[\w.-]+\.(?:py|sh|toml)\b", ENV_EXAMPLE)
    )
    files = {
        name
        for name in named
        if "://" not in name
        and "." in name.rsplit("/", 1)[-1]
        and not name.startswith(MADE_AT_RUN_TIME)
        and not re.fullmatch(r"\d+/\w+", name)  # rates such as 10/min
    }

    assert files, "expected the example to name some files"
    assert sorted(f for f in files if not (ROOT / f).exists()) == []


def test_env_example_lists_every_variable_the_code_reads():
    import re

    read = set()
    for path in ("skincare/settings.py", "gunicorn.conf.py"):
        source = (ROOT / path).read_text()
        read |= set(
            re.findall(
                r'(?:env(?:\.\w+)?|environ\.get)\(\s*"([A-Z][A-Z0-9_]+)"', source
            )
        )
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE, re.M))
    # Set by the test runner and the benchmark, never by an operator.
    internal = {"PYTEST_XDIST_WORKER", "BENCH_VIEWS"}

    assert sorted(read - listed - internal) == []
