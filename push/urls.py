from rest_framework.routers import SimpleRouter

from push import views

router = SimpleRouter(trailing_slash=True)
router.register("devices", views.DeviceViewSet, basename="device")

urlpatterns = router.urls
