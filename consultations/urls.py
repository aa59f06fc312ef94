from django.urls import path
from rest_framework.routers import SimpleRouter

from consultations import views

router = SimpleRouter(trailing_slash=True)
router.register("dermatologists", views.DermatologistViewSet, basename="dermatologist")
router.register("consultations", views.ConsultationViewSet, basename="consultation")

urlpatterns = [
    path(
        "consultations/<uuid:pk>/calendar.ics",
        views.ConsultationCalendarView.as_view(),
        name="consultation-calendar",
    ),
    *router.urls,
]
