from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm

from accounts.models import User


class AdminUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class AdminUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class DeletedFilter(admin.SimpleListFilter):
    title = "deletion"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("yes", "Soft-deleted"), ("no", "Not deleted")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        return queryset


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = AdminUserChangeForm
    add_form = AdminUserCreationForm
    ordering = ["-date_joined"]
    list_display = [
        "email",
        "first_name",
        "last_name",
        "role",
        "is_staff",
        "is_active",
        "email_verified_at",
        "deleted_at",
        "last_login",
    ]
    list_filter = ["role", "is_staff", "is_active", DeletedFilter, "date_joined"]
    search_fields = ["email", "first_name", "last_name"]
    readonly_fields = ["date_joined", "last_login", "deleted_at"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Personal", {"fields": ["first_name", "last_name", "timezone", "language"]}),
        (
            "Skin profile",
            {
                "fields": [
                    "declared_skin_type",
                    "concerns",
                    "sensitivities",
                    "fitzpatrick_type",
                    "date_of_birth",
                    "pregnant_or_breastfeeding",
                ]
            },
        ),
        (
            "Consents",
            {
                "fields": [
                    "consent_photo_analysis_at",
                    "consent_share_with_dermatologists_at",
                    "consent_marketing_at",
                ]
            },
        ),
        (
            "Access",
            {
                "fields": [
                    "role",
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                    "email_verified_at",
                ]
            },
        ),
        ("Dates", {"fields": ["date_joined", "last_login", "deleted_at"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "password1", "password2", "role"],
            },
        )
    ]
