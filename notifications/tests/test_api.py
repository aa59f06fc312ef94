import pytest
from django.core.cache import cache
from django.test import override_settings

from notifications import services
from notifications.models import Notification, Preference
from notifications.tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db

FEED = "/api/v1/notifications/"


def test_feed_lists_own_notifications_newest_first(auth_client, user, other_user):
    older = NotificationFactory(recipient=user)
    newer = NotificationFactory(recipient=user)
    NotificationFactory(recipient=other_user)

    body = auth_client.get(FEED).json()

    assert body["count"] == 2
    assert [n["id"] for n in body["results"]] == [str(newer.pk), str(older.pk)]


def test_feed_filters_unread(auth_client, user):
    NotificationFactory(recipient=user)
    read = NotificationFactory(recipient=user)
    services.mark_read(notification=read)

    body = auth_client.get(FEED, {"unread": "true"}).json()

    assert body["count"] == 1
    assert body["results"][0]["read"] is False


def test_another_users_notification_answers_404(auth_client, other_user):
    theirs = NotificationFactory(recipient=other_user)

    assert auth_client.get(f"{FEED}{theirs.pk}/").status_code == 404
    response = auth_client.post(f"{FEED}{theirs.pk}/read/")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_one_read_then_all_read_updates_the_unread_count(auth_client, user):
    first, _second, _third = NotificationFactory.create_batch(3, recipient=user)
    assert auth_client.get(f"{FEED}unread-count/").json() == {"unread": 3}

    auth_client.post(f"{FEED}{first.pk}/read/")
    assert auth_client.get(f"{FEED}unread-count/").json() == {"unread": 2}

    assert auth_client.post(f"{FEED}read-all/").json() == {"marked": 2}
    assert auth_client.get(f"{FEED}unread-count/").json() == {"unread": 0}


def test_unread_count_is_served_from_the_cache(
    auth_client, user, django_assert_num_queries
):
    NotificationFactory(recipient=user)
    auth_client.get(f"{FEED}unread-count/")

    # Only the authentication query remains.
    with django_assert_num_queries(1):
        assert auth_client.get(f"{FEED}unread-count/").json() == {"unread": 1}


def test_new_notification_invalidates_the_cached_count(
    auth_client, user, django_capture_on_commit_callbacks
):
    assert auth_client.get(f"{FEED}unread-count/").json() == {"unread": 0}

    with django_capture_on_commit_callbacks(execute=True):
        services.notify(user=user, kind="analysis_ready", context={})

    assert auth_client.get(f"{FEED}unread-count/").json() == {"unread": 1}


DEAD_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6399/0",
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": 0.2,
            "SOCKET_TIMEOUT": 0.2,
            "IGNORE_EXCEPTIONS": True,
        },
    }
}


def test_cache_outage_does_not_break_the_feed(auth_client, user):
    NotificationFactory.create_batch(2, recipient=user)

    with override_settings(CACHES=DEAD_REDIS):
        assert cache.get("anything") is None
        count = auth_client.get(f"{FEED}unread-count/")
        feed = auth_client.get(FEED)

    assert count.json() == {"unread": 2}
    assert feed.json()["count"] == 2


@pytest.mark.parametrize("size", [5, 50])
def test_feed_query_count_does_not_grow_with_the_list(
    auth_client, user, django_assert_num_queries, size
):
    NotificationFactory.create_batch(size, recipient=user)

    # authentication, count, page
    with django_assert_num_queries(3):
        response = auth_client.get(FEED, {"page_size": 100})

    assert len(response.json()["results"]) == size


def test_preferences_default_to_on_but_marketing_like_pushes(auth_client, user):
    body = auth_client.get("/api/v1/notifications/preferences/").json()

    assert body["channels"]["welcome"] == {"in_app": True, "email": True, "push": False}
    assert body["channels"]["routine_reminder"]["push"] is True
    assert body["channels"]["consultation_rescheduled"]["push"] is True
    assert body["channels"]["password_reset"] == {"email": True}
    assert body["quiet_hours"] == {"start": None, "end": None}
    assert body["timezone"] == user.timezone


def test_preferences_patch_switches_a_channel_and_sets_quiet_hours(auth_client, user):
    response = auth_client.patch(
        "/api/v1/notifications/preferences/",
        {
            "channels": {"routine_reminder": {"email": False}},
            "quiet_hours": {"start": "22:00", "end": "07:00"},
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert body["channels"]["routine_reminder"] == {
        "in_app": True,
        "email": False,
        "push": True,
    }
    assert body["quiet_hours"] == {"start": "22:00:00", "end": "07:00:00"}


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"channels": {"welcome": {"email": "no"}}}, "invalid"),
        ({"quiet_hours": {"start": "22:00", "end": None}}, "quiet_hours_incomplete"),
        ({"quiet_hours": {"start": "25:00", "end": "07:00"}}, "invalid"),
    ],
)
def test_preferences_patch_rejects_bad_input(auth_client, user, payload, code):
    response = auth_client.patch("/api/v1/notifications/preferences/", payload)

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == code
    assert not Preference.objects.filter(user=user).exists()


def test_half_set_quiet_hours_answer_on_quiet_hours(auth_client, user):
    response = auth_client.patch(
        "/api/v1/notifications/preferences/",
        {"quiet_hours": {"start": None, "end": "07:00"}},
    )

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["attr"], error["code"]) == ("quiet_hours", "quiet_hours_incomplete")


def test_reading_preferences_writes_nothing(auth_client, user):
    response = auth_client.get("/api/v1/notifications/preferences/")

    assert response.status_code == 200
    assert not Preference.objects.filter(user=user).exists()


def test_feed_requires_authentication(api_client):
    assert api_client.get(FEED).status_code == 401
    assert Notification.objects.count() == 0


def test_preferences_patch_ignores_unknown_kinds(auth_client, user):
    response = auth_client.patch(
        "/api/v1/notifications/preferences/",
        {"channels": {"nonsense": {"email": False}, "welcome": {"email": False}}},
    )

    assert response.status_code == 200
    assert "nonsense" not in response.json()["channels"]
    assert response.json()["channels"]["welcome"]["email"] is False
