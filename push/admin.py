from django.contrib import admin

from push.models import Device


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "platform",
        "is_active",
        "app_version",
        "last_success_at",
        "last_failure_at",
        "last_failure",
        "created_at",
    ]
    list_filter = ["platform", "is_active", "last_failure_at"]
    search_fields = ["user__email", "pk"]
    list_select_related = ["user"]
    # The token reaches the phone: staff see that one exists, not what it is.
    exclude = ["token"]
    readonly_fields = [f.name for f in Device._meta.fields if f.name != "token"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False
