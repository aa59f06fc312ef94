from celery import shared_task

from accounts import services


@shared_task(acks_late=True, name="accounts.send_password_reset")
def send_password_reset_task(email: str) -> bool:
    """Look the address up and e-mail a reset token if an active account has it.

    The API enqueues this for every address, known or not, so the request does the
    same work either way and its timing tells nothing about which addresses exist.
    """
    return services.send_password_reset(email=email)
