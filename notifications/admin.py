from django.contrib import admin, messages

from notifications import services
from notifications.models import Delivery, Notification, Preference


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    fields = ["channel", "status", "to_address", "attempts", "last_error", "sent_at"]
    readonly_fields = fields
    can_delete = False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "recipient", "created_at", "read_at"]
    list_filter = ["kind", "created_at", "in_app"]
    search_fields = ["recipient__email", "title"]
    list_select_related = ["recipient"]
    readonly_fields = [f.name for f in Notification._meta.fields] + ["about"]
    date_hierarchy = "created_at"
    inlines = [DeliveryInline]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "to_address",
        "channel",
        "subject",
        "status",
        "attempts",
        "created_at",
        "sent_at",
    ]
    list_filter = ["status", "channel", "notification__kind", "created_at"]
    search_fields = ["to_address", "notification__recipient__email", "subject"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    date_hierarchy = "created_at"
    actions = ["resend"]

    @admin.action(description="Resend selected failed deliveries")
    def resend(self, request, queryset):
        count = services.resend_deliveries(
            delivery_ids=queryset.values_list("pk", flat=True)
        )
        self.message_user(
            request, f"{count} deliveries queued again.", messages.SUCCESS
        )


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "quiet_hours_start", "quiet_hours_end", "updated_at"]
    search_fields = ["user__email"]
