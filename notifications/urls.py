from django.urls import path
from rest_framework.routers import SimpleRouter

from notifications import views

router = SimpleRouter(trailing_slash=True)
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns = [
    path(
        "notifications/preferences/",
        views.PreferencesView.as_view(),
        name="notification-preferences",
    ),
    *router.urls,
]
