from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Operator commands: backup and restore."""

    name = "operations"
    verbose_name = "Operations"
