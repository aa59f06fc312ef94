"""Celery application, configured from Django settings (CELERY_* names)."""

import os

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skincare.settings")

app = Celery("skincare")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# ------------------------------------------------------------------------------
# The request id follows work into the worker: one id from the API call to its e-mail.
# ------------------------------------------------------------------------------
REQUEST_ID_HEADER = "request_id"
_task_tokens: dict[str, object] = {}


@before_task_publish.connect(weak=False)
def _add_request_id_header(headers=None, **kwargs) -> None:
    """Carry the publishing request's id in the task message headers."""
    from skincare.logging import request_id_var

    request_id = request_id_var.get()
    if headers is not None and request_id != "-":
        headers.setdefault(REQUEST_ID_HEADER, request_id)


def _header_request_id(task) -> str | None:
    request = task.request
    value = getattr(request, REQUEST_ID_HEADER, None)
    if not value and isinstance(request.headers, dict):
        value = request.headers.get(REQUEST_ID_HEADER)
    return value if isinstance(value, str) and value else None


@task_prerun.connect(weak=False)
def _set_request_id(task_id=None, task=None, **kwargs) -> None:
    """Log a task's lines under the id of the request that enqueued it."""
    from skincare.logging import incoming_request_id, request_id_var

    request_id = _header_request_id(task)
    if request_id is None:
        if task.request.is_eager:
            return  # runs inside the publishing request: its id is already set
        request_id = task_id
    _task_tokens[task_id] = request_id_var.set(incoming_request_id(request_id))


@task_postrun.connect(weak=False)
def _reset_request_id(task_id=None, **kwargs) -> None:
    from skincare.logging import request_id_var

    token = _task_tokens.pop(task_id, None)
    if token is not None:
        request_id_var.reset(token)
