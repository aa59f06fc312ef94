"""Staff keep the catalogue here; routines and check-ins are read for support.

Every catalogue save or delete (inlines and bulk deletes included) bumps the
catalogue cache version through model signals (routines.signals); a routine saved
or deleted here has its owner's stored warnings recomputed.
"""

from django.contrib import admin

from routines import services
from routines.models import (
    CheckIn,
    Ingredient,
    Product,
    ProductIngredient,
    Routine,
    RoutineReminder,
    RoutineStep,
)


@admin.register(Ingredient)
class IngredientAdmin(admin.ModelAdmin):
    list_display = [
        "inci",
        "pregnancy_caution",
        "photosensitising",
        "ph_dependent",
        "comedogenic_rating",
    ]
    list_filter = ["pregnancy_caution", "photosensitising", "ph_dependent"]
    search_fields = ["inci", "description"]


class ProductIngredientInline(admin.TabularInline):
    model = ProductIngredient
    autocomplete_fields = ["ingredient"]
    ordering = ["position"]
    extra = 1


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "brand", "category", "spf", "price", "is_active"]
    list_filter = ["category", "is_active", "fragrance_free", "non_comedogenic"]
    search_fields = ["name", "brand", "slug"]
    prepopulated_fields = {"slug": ["brand", "name"]}
    inlines = [ProductIngredientInline]


class RoutineStepInline(admin.TabularInline):
    model = RoutineStep
    autocomplete_fields = ["product"]
    ordering = ["position"]
    extra = 0
    fields = [
        "position",
        "step_kind",
        "product",
        "name",
        "weekdays",
        "every_n_days",
        "start_date",
        "active_from",
        "note",
        "reason",
    ]


@admin.register(Routine)
class RoutineAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "period", "source", "reminder_time", "created_at"]
    list_filter = ["period", "source"]
    search_fields = ["user__email", "name"]
    raw_id_fields = ["user", "analysis"]
    inlines = [RoutineStepInline]

    # Stored warnings cover all the owner's routines together (routines.services).
    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.refresh_warnings(user=form.instance.user)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.refresh_warnings(user=obj.user)

    def delete_queryset(self, request, queryset):
        owners = {routine.user for routine in queryset.select_related("user")}
        super().delete_queryset(request, queryset)
        for user in owners:
            services.refresh_warnings(user=user)


@admin.register(CheckIn)
class CheckInAdmin(admin.ModelAdmin):
    list_display = ["date", "routine", "step", "created_at"]
    list_filter = ["date"]
    search_fields = ["routine__user__email"]
    raw_id_fields = ["routine", "step"]
    date_hierarchy = "date"


@admin.register(RoutineReminder)
class RoutineReminderAdmin(admin.ModelAdmin):
    list_display = ["local_date", "routine", "sent_at"]
    search_fields = ["routine__user__email"]
    raw_id_fields = ["routine"]
