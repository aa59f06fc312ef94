"""The registry of notification kinds; templates live in templates/notifications/."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    # Security mail (verification, reset) ignores preferences and quiet hours and is not
    # kept in the in-app feed, whose copy would outlive the token's purpose.
    security: bool = False
    in_app: bool = True
    email: bool = True


KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in [
        Kind("welcome", "Welcome"),
        Kind("email_verification", "E-mail verification", security=True, in_app=False),
        Kind("password_reset", "Password reset", security=True, in_app=False),
        Kind("password_changed", "Password changed", security=True),
        Kind("account_deleted", "Account deleted", security=True, in_app=False),
        Kind("analysis_ready", "Skin analysis ready"),
        Kind("analysis_failed", "Skin analysis could not be completed"),
        Kind("routine_reminder", "Routine reminder"),
        Kind("consultation_booked", "Consultation booked"),
        Kind("consultation_confirmed", "Consultation confirmed"),
        Kind("consultation_declined", "Consultation declined"),
        Kind("consultation_cancelled", "Consultation cancelled"),
        Kind("consultation_rescheduled", "Consultation rescheduled"),
        Kind("consultation_completed", "Consultation completed"),
        Kind("consultation_reminder", "Consultation reminder"),
    ]
}

CHANNELS = ("in_app", "email")


def get_kind(key: str) -> Kind:
    try:
        return KINDS[key]
    except KeyError:
        raise ValueError(f"Unknown notification kind: {key}") from None
