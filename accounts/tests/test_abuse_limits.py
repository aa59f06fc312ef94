from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from accounts.tests.helpers import REGISTER_URL, error_code, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

THRESHOLD = settings.ACCOUNT_LOCKOUT_THRESHOLD


def clear_throttles() -> None:
    """Forget the cache counters, so only the database lock is left to stop us."""
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")
    else:
        cache.clear()


def fail_sign_ins(client, email, times):
    responses = []
    for _ in range(times):
        clear_throttles()
        responses.append(sign_in(client, email, "wrong-password"))
    return responses


def test_threshold_failures_lock_the_account_with_retry_after(api_client, user):
    responses = fail_sign_ins(api_client, user.email, THRESHOLD)

    assert [r.status_code for r in responses] == [401] * (THRESHOLD - 1) + [429]
    locked = responses[-1]
    assert error_code(locked) == "account_locked"
    retry_after = int(locked["Retry-After"])
    assert 0 < retry_after <= settings.ACCOUNT_LOCKOUT_MINUTES * 60 + 1


def test_locked_account_refuses_the_right_password(api_client, user):
    fail_sign_ins(api_client, user.email, THRESHOLD)
    clear_throttles()

    response = sign_in(api_client, user.email)

    assert response.status_code == 429
    assert error_code(response) == "account_locked"
    assert int(response["Retry-After"]) > 0


def test_lock_is_kept_in_the_database_and_survives_a_cache_flush(api_client, user):
    fail_sign_ins(api_client, user.email, THRESHOLD)
    clear_throttles()

    user.refresh_from_db()
    assert user.locked_until > timezone.now()
    assert sign_in(api_client, user.email).status_code == 429


def test_lock_expires(api_client, user):
    # given
    fail_sign_ins(api_client, user.email, THRESHOLD)
    user.refresh_from_db()
    user.locked_until = timezone.now() - timedelta(seconds=1)
    user.save(update_fields=["locked_until"])
    clear_throttles()

    # when
    response = sign_in(api_client, user.email)

    # then
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.locked_until is None
    assert user.failed_sign_ins == 0


def test_failures_during_a_lock_do_not_extend_it(api_client, user):
    fail_sign_ins(api_client, user.email, THRESHOLD)
    user.refresh_from_db()
    locked_until = user.locked_until

    fail_sign_ins(api_client, user.email, 5)

    user.refresh_from_db()
    assert user.locked_until == locked_until


def test_counting_starts_again_after_a_lock_so_locks_do_not_grow(api_client, user):
    # given: a lock that ran out
    fail_sign_ins(api_client, user.email, THRESHOLD)
    user.refresh_from_db()
    user.locked_until = timezone.now() - timedelta(seconds=1)
    user.save(update_fields=["locked_until"])

    # when
    before = fail_sign_ins(api_client, user.email, THRESHOLD - 1)
    relock = fail_sign_ins(api_client, user.email, 1)[0]

    # then: one more full round is needed and the new lock is as long as the first
    assert {r.status_code for r in before} == {401}
    assert relock.status_code == 429
    assert int(relock["Retry-After"]) <= settings.ACCOUNT_LOCKOUT_MINUTES * 60 + 1


def test_a_successful_sign_in_resets_the_failure_count(api_client, user):
    fail_sign_ins(api_client, user.email, THRESHOLD - 1)
    clear_throttles()
    assert sign_in(api_client, user.email).status_code == 200

    responses = fail_sign_ins(api_client, user.email, THRESHOLD - 1)

    assert {r.status_code for r in responses} == {401}


def test_failures_for_an_unknown_address_answer_like_a_wrong_password(api_client):
    responses = fail_sign_ins(api_client, "nobody@example.com", THRESHOLD + 1)

    assert {r.status_code for r in responses} == {401}
    assert {error_code(r) for r in responses} == {"no_active_account"}


def test_sign_in_is_throttled_per_account_across_ips(api_client, user):
    responses = [
        sign_in(api_client, user.email.upper(), REMOTE_ADDR=f"10.1.0.{n}")
        for n in range(6)
    ]

    assert [r.status_code for r in responses] == [200] * 5 + [429]
    assert error_code(responses[-1]) == "throttled"
    assert int(responses[-1]["Retry-After"]) > 0


def test_register_is_throttled_per_address_across_ips(api_client):
    payload = {"email": "ana@example.com", "password": "a-Decent-passphrase-42"}

    responses = [
        api_client.post(REGISTER_URL, payload, REMOTE_ADDR=f"10.2.0.{n}")
        for n in range(4)
    ]

    assert [r.status_code for r in responses] == [201, 400, 400, 429]
    assert int(responses[-1]["Retry-After"]) > 0


def test_register_is_throttled_per_ip(api_client):
    responses = [
        api_client.post(
            REGISTER_URL,
            {"email": f"p{n}@example.com", "password": "a-Decent-passphrase-42"},
        )
        for n in range(6)
    ]

    assert [r.status_code for r in responses] == [201] * 5 + [429]


def test_sign_in_fails_open_on_the_counters_but_keeps_the_lock_when_redis_is_down(
    api_client, user, settings
):
    """An unreachable Redis neither crashes sign-in nor lifts the database lock."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 0.2,
                "SOCKET_TIMEOUT": 0.2,
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }

    signed_in = sign_in(api_client, user.email)
    failures = [sign_in(api_client, user.email, "wrong") for _ in range(THRESHOLD)]
    locked = sign_in(api_client, user.email)

    assert signed_in.status_code == 200
    assert [r.status_code for r in failures] == [401] * (THRESHOLD - 1) + [429]
    assert error_code(locked) == "account_locked"
