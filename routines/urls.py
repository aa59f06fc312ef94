from rest_framework.routers import SimpleRouter

from routines import views

router = SimpleRouter(trailing_slash=True)
router.register("products", views.ProductViewSet, basename="product")
router.register("ingredients", views.IngredientViewSet, basename="ingredient")
router.register("routines", views.RoutineViewSet, basename="routine")

urlpatterns = router.urls
