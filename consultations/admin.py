from django.contrib import admin, messages

from consultations import services
from consultations.models import (
    AvailabilityException,
    Consultation,
    ConsultationStatusChange,
    ConsultationType,
    Dermatologist,
    Language,
    SharedAnalysis,
    SharedAnalysisAccess,
    Specialty,
    WeeklyHours,
)


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


@admin.register(Language)
class LanguageAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


class ConsultationTypeInline(admin.TabularInline):
    model = ConsultationType
    extra = 0


class WeeklyHoursInline(admin.TabularInline):
    model = WeeklyHours
    extra = 0


class AvailabilityExceptionInline(admin.TabularInline):
    model = AvailabilityException
    extra = 0


@admin.register(Dermatologist)
class DermatologistAdmin(admin.ModelAdmin):
    list_display = ["__str__", "user", "licence_number", "timezone", "verified_at"]
    list_filter = [("verified_at", admin.EmptyFieldListFilter), "specialties"]
    search_fields = ["user__email", "user__last_name", "licence_number"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["specialties", "languages"]
    readonly_fields = ["verified_at", "verified_by", "created_at"]
    inlines = [ConsultationTypeInline, WeeklyHoursInline, AvailabilityExceptionInline]
    actions = ["verify"]

    def save_model(self, request, obj, form, change):
        """A new profile is created by the service; edits save as usual."""
        if change:
            super().save_model(request, obj, form, change)
            return
        created = services.create_dermatologist(
            user=obj.user,
            credentials=obj.credentials,
            licence_number=obj.licence_number,
            timezone=obj.timezone,
            bio=obj.bio,
            buffer_minutes=obj.buffer_minutes,
            minimum_notice_hours=obj.minimum_notice_hours,
            horizon_days=obj.horizon_days,
            photo=obj.photo or None,
            specialties=form.cleaned_data.get("specialties", ()),
            languages=form.cleaned_data.get("languages", ()),
        )
        # The inlines and the rest of the admin's bookkeeping then use this row.
        obj.pk = created.pk

    @admin.action(description="Verify selected dermatologists")
    def verify(self, request, queryset):
        for dermatologist in queryset:
            services.verify_dermatologist(dermatologist=dermatologist, by=request.user)
        self.message_user(
            request, f"{queryset.count()} verified.", level=messages.SUCCESS
        )


class StatusChangeInline(admin.TabularInline):
    model = ConsultationStatusChange
    extra = 0
    can_delete = False
    readonly_fields = [
        "from_status",
        "to_status",
        "changed_by",
        "changed_at",
        "previous_start",
        "note",
    ]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class SharedAnalysisInline(admin.TabularInline):
    model = SharedAnalysis
    extra = 0
    can_delete = False
    readonly_fields = ["analysis", "consent_given_at", "shared_at", "revoked_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class SharedAnalysisAccessInline(admin.TabularInline):
    """The audit trail of a consultation's shares: read-only, never edited."""

    model = SharedAnalysisAccess
    extra = 0
    can_delete = False
    fields = readonly_fields = ["accessed_at", "accessed_by", "kind", "analysis"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Consultation)
class ConsultationAdmin(admin.ModelAdmin):
    """Read-mostly: status changes go through the services (history, e-mails)."""

    list_display = ["start", "dermatologist", "patient", "kind", "status", "fee"]
    list_filter = ["status", ("start", admin.DateFieldListFilter), "dermatologist"]
    date_hierarchy = "start"
    search_fields = ["patient__email", "dermatologist__user__email"]
    list_select_related = ["dermatologist__user", "patient"]
    readonly_fields = [
        f.name for f in Consultation._meta.concrete_fields if f.name != "id"
    ]
    inlines = [SharedAnalysisInline, SharedAnalysisAccessInline, StatusChangeInline]

    def has_add_permission(self, request) -> bool:
        return False
