from django.urls import path
from rest_framework.routers import SimpleRouter

from analysis.views import AnalysisViewSet, PhotoLinkView, QuestionnaireView

router = SimpleRouter(trailing_slash=True)
router.register("analyses", AnalysisViewSet, basename="analysis")

urlpatterns = [
    path(
        "analysis/questionnaire/",
        QuestionnaireView.as_view(),
        name="analysis-questionnaire",
    ),
    path(
        "analysis/photo-links/<str:token>/",
        PhotoLinkView.as_view(),
        name="analysis-photo-link",
    ),
    *router.urls,
]
