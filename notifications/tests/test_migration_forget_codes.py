"""Codes stored before the change are removed by the data migration."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("notifications", "0002_notification_about")]
AFTER = [("notifications", "0003_forget_stored_codes")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_codes_stored_by_earlier_versions_are_removed_and_waiting_mail_withdrawn():
    user = UserFactory()
    old = migrate(BEFORE)
    Notification = old.get_model("notifications", "Notification")
    Delivery = old.get_model("notifications", "Delivery")
    stored = Notification.objects.create(
        recipient_id=user.pk,
        kind="password_reset",
        title="Reset your password",
        body="code .eJabc:1xY:sig-stored",
        data={"token": ".eJabc:1xY:sig-stored", "expires_hours": 2},
    )
    Delivery.objects.create(
        notification=stored,
        channel="email",
        status="pending",
        to_address=user.email,
        subject="Reset your password",
        body_text="code .eJabc:1xY:sig-stored",
        body_html="<p>.eJabc:1xY:sig-stored</p>",
    )
    welcome = Notification.objects.create(
        recipient_id=user.pk, kind="welcome", title="Welcome", body="Hello"
    )

    new = migrate(AFTER)
    try:
        Notification = new.get_model("notifications", "Notification")
        Delivery = new.get_model("notifications", "Delivery")
        stored = Notification.objects.get(pk=stored.pk)
        delivery = Delivery.objects.get(notification_id=stored.pk)
        assert "sig-stored" not in stored.body + str(stored.data)
        assert "sig-stored" not in delivery.body_text + delivery.body_html
        assert delivery.status == "failed"
        assert Notification.objects.get(pk=welcome.pk).body == "Hello"
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
