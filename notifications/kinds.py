"""The registry of notification kinds; templates live in templates/notifications/."""

from dataclasses import dataclass, field

from notifications.errors import UnknownKind


class SecretExpired(Exception):
    """A code provider's code is past its lifetime: the e-mail is not sent."""


# What a consultation message says once the patient it names has been erased.
FORMER_PATIENT = {"patient_name": "A former patient", "reason": "", "notes": ""}


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    # Security mail (verification, reset) ignores preferences and quiet hours and is not
    # kept in the in-app feed, whose copy would outlive the token's purpose.
    security: bool = False
    in_app: bool = True
    email: bool = True
    # Dotted path of ``provider(*, user, context) -> dict`` giving the one-time code
    # (and its link) at send time. Only the copy handed to SMTP carries it: the stored
    # notification and delivery are rendered without it, and the stored context holds
    # only what lets the provider re-make the same code.
    code_provider: str = ""
    # Context values that name the person a notification is ``about`` (not its
    # recipient), and what they become when that person's account is erased.
    erased: dict[str, str] = field(default_factory=dict, hash=False)


KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in [
        Kind("welcome", "Welcome"),
        Kind(
            "email_verification",
            "E-mail verification",
            security=True,
            in_app=False,
            code_provider="accounts.tokens.secret_context",
        ),
        Kind(
            "password_reset",
            "Password reset",
            security=True,
            in_app=False,
            code_provider="accounts.tokens.secret_context",
        ),
        Kind("password_changed", "Password changed", security=True),
        Kind("account_deleted", "Account deleted", security=True, in_app=False),
        Kind("token_reused", "Sign-in session ended", security=True),
        Kind("analysis_ready", "Skin analysis ready"),
        Kind("analysis_failed", "Skin analysis could not be completed"),
        Kind("routine_reminder", "Routine reminder"),
        Kind("consultation_booked", "Consultation booked", erased=FORMER_PATIENT),
        Kind("consultation_confirmed", "Consultation confirmed", erased=FORMER_PATIENT),
        Kind("consultation_declined", "Consultation declined", erased=FORMER_PATIENT),
        Kind("consultation_cancelled", "Consultation cancelled", erased=FORMER_PATIENT),
        Kind(
            "consultation_rescheduled",
            "Consultation rescheduled",
            erased=FORMER_PATIENT,
        ),
        Kind("consultation_completed", "Consultation completed", erased=FORMER_PATIENT),
        Kind("consultation_reminder", "Consultation reminder", erased=FORMER_PATIENT),
    ]
}

CHANNELS = ("in_app", "email")


def get_kind(key: str) -> Kind:
    try:
        return KINDS[key]
    except KeyError:
        raise UnknownKind(key) from None
