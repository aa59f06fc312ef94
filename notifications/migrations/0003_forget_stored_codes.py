"""One-time codes were stored in notifications and deliveries: remove them.

Codes are now re-made only at send time; a delivery still waiting with a stored code
cannot be re-made (its context has no recipe), so it fails and the user asks again.
"""

from django.db import migrations

SECRET_KINDS = ["email_verification", "password_reset"]
REMOVED = "[The one-time code and link are only in the e-mail; they are not stored.]"


def forget_codes(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    Delivery = apps.get_model("notifications", "Delivery")
    stored = Notification.objects.filter(kind__in=SECRET_KINDS, data__has_key="token")
    Delivery.objects.filter(
        notification__in=stored, status__in=["pending", "sending"]
    ).update(status="failed", last_error="one-time code withdrawn; not sent")
    Delivery.objects.filter(notification__kind__in=SECRET_KINDS).update(
        body_text=REMOVED, body_html="", attachments=[]
    )
    Notification.objects.filter(kind__in=SECRET_KINDS).update(body=REMOVED, data={})


class Migration(migrations.Migration):
    dependencies = [("notifications", "0002_notification_about")]

    operations = [migrations.RunPython(forget_codes, migrations.RunPython.noop)]
