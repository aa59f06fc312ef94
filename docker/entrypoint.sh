#!/bin/sh
# Entrypoint for the web, worker and cron containers (and for CI outside Docker).
set -eu

case "${1:-web}" in
  web)
    python manage.py migrate --noinput
    # gunicorn workers share their metrics through files that must start empty.
    export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-/tmp/skincare-prometheus}"
    rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
    exec gunicorn --config gunicorn.conf.py
    ;;
  worker)
    exec celery -A skincare worker --loglevel "${CELERY_LOG_LEVEL:-INFO}" --concurrency "${CELERY_CONCURRENCY:-2}"
    ;;
  cron)
    exec supercronic -passthrough-logs "${CRONTAB:-ops/crontab}"
    ;;
  *)
    exec "$@"
    ;;
esac
