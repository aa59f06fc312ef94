"""The feed's output function answers exactly what NotificationSerializer would."""

from datetime import UTC, datetime

import pytest

from notifications.models import Notification
from notifications.serializers import NotificationSerializer, notification_data

pytestmark = pytest.mark.django_db


def test_notification_data_equals_the_serializer(user):
    read = datetime(2024, 3, 31, 1, 30, 0, 123456, tzinfo=UTC)
    for read_at in (None, read):
        notification = Notification.objects.create(
            recipient=user,
            kind="routine_reminder",
            title="Täglich \u2028",
            body="Time for your routine.",
            data={"routine": "x", "n": [1, 2.5, None]},
            read_at=read_at,
        )
        notification.refresh_from_db()
        assert (
            notification_data(notification) == NotificationSerializer(notification).data
        )
