from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from rest_framework_simplejwt.token_blacklist.models import (
    BlacklistedToken,
    OutstandingToken,
)

from accounts import errors, services
from accounts.filters import DeletedFilter, VerifiedFilter
from accounts.forms import AdminSignInForm, answer_429_when_limited
from accounts.models import RefreshTokenRecord, User

# The admin's sign-in goes through accounts.signin (limits, lockout), like every other.
admin.site.login_form = AdminSignInForm
admin.site.login = answer_429_when_limited(admin.site.login)


class AdminUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class AdminUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


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
        "verified",
        "deletion_state",
        "locked",
        "last_login",
    ]
    list_filter = [
        "role",
        "is_staff",
        "is_active",
        VerifiedFilter,
        DeletedFilter,
        "date_joined",
    ]
    search_fields = ["email", "first_name", "last_name"]
    readonly_fields = [
        "date_joined",
        "last_login",
        "deleted_at",
        "purged_at",
        "pending_email",
        "failed_sign_ins",
        "locked_until",
    ]
    actions = [
        "deactivate_accounts",
        "restore_accounts",
        "resend_verification",
        "unlock_accounts",
    ]

    def get_actions(self, request):
        # A hard delete would skip the lifecycle (e-mail, retention, per-app erasure).
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

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
                    "pending_email",
                    "failed_sign_ins",
                    "locked_until",
                ]
            },
        ),
        (
            "Dates",
            {"fields": ["date_joined", "last_login", "deleted_at", "purged_at"]},
        ),
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

    @admin.display(boolean=True, description="verified", ordering="email_verified_at")
    def verified(self, user: User) -> bool:
        return user.is_email_verified

    @admin.display(description="deletion", ordering="deleted_at")
    def deletion_state(self, user: User) -> str:
        if user.is_purged:
            return f"erased {user.purged_at:%Y-%m-%d}"
        if user.is_deleted:
            return f"deleted, erased after {services.purge_date(user):%Y-%m-%d}"
        return ""

    @admin.display(boolean=True, description="locked")
    def locked(self, user: User) -> bool:
        return user.is_locked()

    @admin.action(description="Deactivate (block sign-in and every token)")
    def deactivate_accounts(self, request, queryset):
        count = 0
        for user in queryset.filter(is_active=True):
            services.deactivate_account(user=user)
            count += 1
        self.message_user(request, f"{count} account(s) deactivated.")

    @admin.action(description="Restore deleted accounts (inside the retention period)")
    def restore_accounts(self, request, queryset):
        restored, refused = 0, []
        for user in queryset.filter(deleted_at__isnull=False):
            try:
                services.restore_account(user=user)
            except errors.RestoreWindowClosed:
                refused.append(user.email)
            else:
                restored += 1
        self.message_user(request, f"{restored} account(s) restored.")
        if refused:
            self.message_user(
                request,
                "Past the retention period or erased, not restored: "
                + ", ".join(refused),
                level=messages.WARNING,
            )

    @admin.action(description="Resend the verification e-mail")
    def resend_verification(self, request, queryset):
        sent = 0
        for user in queryset.filter(is_active=True, deleted_at__isnull=True):
            try:
                services.resend_email_verification(user=user)
            except errors.AlreadyVerified:
                continue
            sent += 1
        self.message_user(request, f"{sent} verification e-mail(s) sent.")

    @admin.action(description="Lift the sign-in lock")
    def unlock_accounts(self, request, queryset):
        count = 0
        for user in queryset.exclude(failed_sign_ins=0, locked_until__isnull=True):
            services.unlock_account(user=user)
            count += 1
        self.message_user(request, f"{count} account(s) unlocked.")


# ------------------------------------------------------------------------------
# Refresh tokens: whose, which session family, what state; never the token text,
# which is a live credential (simplejwt's own admins show it).
# ------------------------------------------------------------------------------
for _model in (OutstandingToken, BlacklistedToken):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


class _ReadOnlyAdmin(admin.ModelAdmin):
    actions = None

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def _family_record(token: OutstandingToken) -> RefreshTokenRecord | None:
    try:
        return token.family_record
    except RefreshTokenRecord.DoesNotExist:
        return None


@admin.register(OutstandingToken)
class OutstandingTokenAdmin(_ReadOnlyAdmin):
    list_display = [
        "jti",
        "user",
        "family",
        "created_at",
        "expires_at",
        "blacklisted",
        "rotated",
        "revoked",
    ]
    fields = list_display
    readonly_fields = list_display
    search_fields = ["jti", "user__email"]
    list_filter = ["created_at", "expires_at"]
    ordering = ["-created_at"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("user", "family_record", "blacklistedtoken")
            .defer("token")
        )

    @admin.display(description="session family")
    def family(self, token: OutstandingToken):
        record = _family_record(token)
        return record.family if record else "-"

    @admin.display(boolean=True)
    def blacklisted(self, token: OutstandingToken) -> bool:
        return hasattr(token, "blacklistedtoken")

    @admin.display(description="rotated at")
    def rotated(self, token: OutstandingToken):
        record = _family_record(token)
        return record.rotated_at if record else None

    @admin.display(description="family revoked at")
    def revoked(self, token: OutstandingToken):
        record = _family_record(token)
        return record.revoked_at if record else None


@admin.register(BlacklistedToken)
class BlacklistedTokenAdmin(_ReadOnlyAdmin):
    list_display = ["jti", "user", "blacklisted_at"]
    fields = list_display
    readonly_fields = list_display
    search_fields = ["token__jti", "token__user__email"]
    ordering = ["-blacklisted_at"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("token__user")
            .defer("token__token")
        )

    @admin.display(ordering="token__jti")
    def jti(self, blacklisted: BlacklistedToken) -> str:
        return blacklisted.token.jti

    @admin.display(ordering="token__user")
    def user(self, blacklisted: BlacklistedToken):
        return blacklisted.token.user
