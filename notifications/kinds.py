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
    # Push: what the lock screen shows. Fixed words, never health data (no scores,
    # concerns, reasons, names or notes): the app fetches details through the API.
    # ``{period}`` is the one placeholder (a routine's "morning"/"evening"). A kind
    # with no push_title is never pushed.
    push_title: str = ""
    push_body: str = ""
    # Pushed unless the user switched it off; False: only if they switched it on.
    push_default: bool = True
    # Context field naming what the message is about: a newer push about the same
    # thing replaces the older one on the phone (collapse key).
    push_collapse: str = ""
    # Seconds after the event past which an undelivered push is dropped.
    push_ttl: int = 24 * 3600

    @property
    def push(self) -> bool:
        return bool(self.push_title)

    def default_on(self, channel: str) -> bool:
        """Whether the channel is on for this kind until the user says otherwise."""
        return self.push_default if channel == "push" else True


OPEN_APP = "Open the app for the details."
CONSULTATION = {
    "erased": FORMER_PATIENT,
    "push_body": OPEN_APP,
    "push_collapse": "consultation_id",
}


KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in [
        # Marketing-like: pushed only to those who switch it on.
        Kind(
            "welcome",
            "Welcome",
            push_title="Welcome to Skincare",
            push_body="Open the app to get started.",
            push_default=False,
        ),
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
        Kind(
            "password_changed",
            "Password changed",
            security=True,
            push_title="Your password was changed",
            push_body="If this wasn't you, reset your password now.",
        ),
        Kind("account_deleted", "Account deleted", security=True, in_app=False),
        Kind(
            "token_reused",
            "Sign-in session ended",
            security=True,
            push_title="A sign-in session was ended",
            push_body="Sign in again. If this wasn't you, change your password.",
        ),
        Kind(
            "analysis_ready",
            "Skin analysis ready",
            push_title="Your analysis is ready",
            push_body="Open the app to see your results.",
            push_collapse="analysis_id",
        ),
        Kind(
            "analysis_failed",
            "Skin analysis could not be completed",
            push_title="Your analysis could not be completed",
            push_body="Open the app to see what to try next.",
            push_collapse="analysis_id",
        ),
        Kind(
            "routine_reminder",
            "Routine reminder",
            push_title="Time for your {period} routine",
            push_body="Open the app to check off today's steps.",
            push_collapse="routine_id",
            # Six hours late, a reminder is noise: dropped after three.
            push_ttl=3 * 3600,
        ),
        Kind(
            "consultation_booked",
            "Consultation booked",
            push_title="Consultation booked",
            **CONSULTATION,
        ),
        Kind(
            "consultation_confirmed",
            "Consultation confirmed",
            push_title="Consultation confirmed",
            **CONSULTATION,
        ),
        Kind(
            "consultation_declined",
            "Consultation declined",
            push_title="Consultation declined",
            **CONSULTATION,
        ),
        Kind(
            "consultation_cancelled",
            "Consultation cancelled",
            push_title="Consultation cancelled",
            **CONSULTATION,
        ),
        Kind(
            "consultation_rescheduled",
            "Consultation rescheduled",
            push_title="Consultation rescheduled",
            **CONSULTATION,
        ),
        Kind(
            "consultation_completed",
            "Consultation completed",
            push_title="Consultation completed",
            **CONSULTATION,
        ),
        Kind(
            "consultation_reminder",
            "Consultation reminder",
            push_title="Upcoming consultation",
            push_ttl=3600,
            **CONSULTATION,
        ),
    ]
}

CHANNELS = ("in_app", "email", "push")


def get_kind(key: str) -> Kind:
    try:
        return KINDS[key]
    except KeyError:
        raise UnknownKind(key) from None
