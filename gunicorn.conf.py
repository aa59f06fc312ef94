"""Gunicorn settings; every value can be overridden by a GUNICORN_* variable."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
worker_class = "gthread"
# Workers fork from a master that already imported Django: a HUP or a max_requests
# recycle replaces a worker in milliseconds instead of leaving seconds with nobody
# accepting while the new ones import the app (bench/drills.py, drill e). A HUP then
# restarts workers but does not reload code; deploy new code by restarting the master.
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() in ("1", "true", "yes")
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
accesslog = None  # the application logs one structured line per request
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Peers allowed to tell gunicorn the scheme (X-Forwarded-Proto and the like): none
# unless set. Gunicorn's own default trusts loopback, so any local client could claim
# https; Django already decides that from TRUSTED_PROXIES (skincare/settings.py).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "")
wsgi_app = "skincare.wsgi:application"


def child_exit(server, worker):
    """Forget a dead worker's live gauges (PROMETHEUS_MULTIPROC_DIR mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
