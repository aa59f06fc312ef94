from celery import shared_task

from notifications import services


@shared_task(
    bind=True, acks_late=True, max_retries=None, name="notifications.send_delivery"
)
def send_delivery_task(self, delivery_id: str) -> str:
    """Send one e-mail delivery; transient failures come back with backoff."""
    outcome, delay = services.send_delivery(delivery_id=delivery_id)
    if outcome == services.SendOutcome.RETRY and not self.request.is_eager:
        raise self.retry(countdown=delay)
    return outcome
