"""Deploy checks of accounts (`manage.py check --deploy`)."""

from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError


@register(Tags.security, deploy=True)
def demo_accounts_absent(app_configs=None, **kwargs):
    """The quick start's demo accounts have passwords published in the repository."""
    from accounts.demo import DEMO_EMAILS
    from accounts.models import User

    try:
        found = sorted(
            User.objects.filter(email__in=DEMO_EMAILS).values_list("email", flat=True)
        )
    except DatabaseError as exc:
        return [
            Warning(
                f"Could not look for demo accounts: {exc}",
                hint="Run the deploy check against the migrated production database.",
                id="accounts.W001",
            )
        ]
    if not found:
        return []
    return [
        Error(
            f"Demo accounts exist: {', '.join(found)}. Their passwords are public.",
            hint="Delete them (admin, or `manage.py shell`) before serving real users.",
            id="accounts.E001",
        )
    ]
