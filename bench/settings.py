"""Settings of the benchmark's gunicorn: the platform's production settings plus the
bare comparison views (bench/urls.py). Never a deployment's settings module."""

from skincare.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
