"""Push is off until configured, and production refuses half a configuration."""

import pytest

from skincare.tests.test_settings import PRODUCTION, run_check

APNS = {
    "APNS_KEY_ID": "ABC123DEFG",
    "APNS_TEAM_ID": "TEAM123456",
    "APNS_TOPIC": "com.example.skincare",
}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (APNS, "APNs push is half configured: set APNS_KEY_FILE"),
        ({"APNS_KEY_FILE": "/dev/null"}, "set APNS_KEY_ID, APNS_TEAM_ID, APNS_TOPIC"),
        ({"FCM_PROJECT_ID": "p"}, "FCM_PROJECT_ID is set without"),
        ({"FCM_SERVICE_ACCOUNT_FILE": "/nonexistent/key.json"}, "is missing"),
    ],
)
def test_production_refuses_half_a_push_setup(env, message):
    result = run_check({**PRODUCTION, **env})

    assert result.returncode != 0
    assert message in result.stderr


def test_production_starts_with_push_unset_or_complete(keys):
    unset = run_check(PRODUCTION)
    complete = run_check(
        {
            **PRODUCTION,
            **APNS,
            "APNS_KEY_FILE": str(keys.apns_file),
            "FCM_SERVICE_ACCOUNT_FILE": str(keys.fcm_file),
        }
    )

    assert unset.returncode == 0, unset.stderr
    assert complete.returncode == 0, complete.stderr
