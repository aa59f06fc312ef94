"""List filters of the accounts admin (accounts/admin.py)."""

from django.contrib import admin


class DateSetFilter(admin.SimpleListFilter):
    """Rows whose date ``field`` is set ("yes") or empty ("no")."""

    field: str
    labels: tuple[str, str]  # for "yes", for "no"

    def lookups(self, request, model_admin):
        return [("yes", self.labels[0]), ("no", self.labels[1])]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(**{f"{self.field}__isnull": self.value() == "no"})
        return queryset


class DeletedFilter(DateSetFilter):
    title = "deletion"
    parameter_name = "deleted"
    field = "deleted_at"
    labels = ("Soft-deleted", "Not deleted")


class VerifiedFilter(DateSetFilter):
    title = "e-mail verification"
    parameter_name = "verified"
    field = "email_verified_at"
    labels = ("Verified", "Not verified")
