from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Operator commands: backup, restore and the quick start's demo data."""

    name = "operations"
    verbose_name = "Operations"
