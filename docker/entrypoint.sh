#!/bin/sh
# Entrypoint for the web, worker and cron containers (and for CI outside Docker).
set -eu

case "${1:-web}" in
  web)
    python manage.py migrate --noinput
    exec gunicorn --config gunicorn.conf.py
    ;;
  worker)
    exec celery -A skincare worker --loglevel "${CELERY_LOG_LEVEL:-INFO}" --concurrency "${CELERY_CONCURRENCY:-2}"
    ;;
  *)
    exec "$@"
    ;;
esac
