from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from skincare import health, metrics

# Each app's URLs sit at the API's root (the mobile contract fixes the paths); the
# comment names the prefixes each one serves, so a URL leads to its app in one hop.
api_v1 = [
    path("", include("accounts.urls")),  # auth/, users/
    path("", include("notifications.urls")),  # notifications/
    path("", include("push.urls")),  # devices/
    path("", include("analysis.urls")),  # analyses/, analysis/
    path("", include("routines.urls")),  # products/, ingredients/, routines/
    path("", include("consultations.urls")),  # dermatologists/, consultations/
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("dermatologist/", include("consultations.page_urls")),
    path("health/live/", health.live, name="health-live"),
    path("health/ready/", health.ready, name="health-ready"),
    path("metrics", metrics.metrics_view, name="metrics"),
]

handler400 = "skincare.errors.bad_request"
handler404 = "skincare.errors.not_found"
handler500 = "skincare.errors.server_failure"
