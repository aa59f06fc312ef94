"""The platform's URLs plus the bare comparison views of bench/api_bench.py.

Only bench/settings.py points ROOT_URLCONF here; skincare.settings never mounts them.
"""

from django.urls import path

from bench import notifications_views, routines_views
from skincare.urls import handler400, handler404, handler500  # noqa: F401
from skincare.urls import urlpatterns as platform_urlpatterns

urlpatterns = [
    *platform_urlpatterns,
    path("bench/routines/", routines_views.routines_list, name="bench-routines"),
    path(
        "bench/notifications/",
        notifications_views.notifications_list,
        name="bench-notifications",
    ),
]
