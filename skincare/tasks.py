"""Enqueueing work for Celery workers once the transaction that caused it commits."""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(task, *args) -> bool:
    """Send a task now; a broker outage is logged, not raised (cron re-drives)."""
    try:
        task.apply_async(args=args)
    except Exception:
        logger.warning("could not enqueue %s%s; left for re-drive", task.name, args)
        return False
    return True


def enqueue_on_commit(task, *args) -> None:
    """Enqueue a task after the current transaction commits."""
    transaction.on_commit(lambda: enqueue(task, *args))
