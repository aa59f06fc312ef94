"""URLs of the dermatologists' pages, included under /dermatologist/."""

from django.urls import path

from consultations import pages

app_name = "dermatologist"

urlpatterns = [
    path("login/", pages.DermatologistLoginView.as_view(), name="login"),
    path("logout/", pages.DermatologistLogoutView.as_view(), name="logout"),
    path("", pages.agenda, name="agenda"),
    path("availability/", pages.availability, name="availability"),
    path("consultations/<uuid:pk>/", pages.consultation_detail, name="consultation"),
    path("consultations/<uuid:pk>/confirm/", pages.confirm, name="confirm"),
    path("consultations/<uuid:pk>/decline/", pages.decline, name="decline"),
    path("consultations/<uuid:pk>/complete/", pages.complete, name="complete"),
    path("consultations/<uuid:pk>/no-show/", pages.no_show, name="no-show"),
    path(
        "consultations/<uuid:pk>/analyses/<uuid:analysis_id>/photo/",
        pages.shared_photo,
        name="shared-photo",
    ),
]
