from django.urls import path
from rest_framework.routers import SimpleRouter

from analysis.views import AnalysisViewSet, QuestionnaireView

router = SimpleRouter(trailing_slash=True)
router.register("analyses", AnalysisViewSet, basename="analysis")

urlpatterns = [
    path(
        "analysis/questionnaire/",
        QuestionnaireView.as_view(),
        name="analysis-questionnaire",
    ),
    *router.urls,
]
