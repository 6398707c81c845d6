from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("sections", views.SectionViewSet, basename="section")
router.register("habitats", views.HabitatViewSet, basename="habitat")
router.register("water-ranges", views.WaterRangeViewSet, basename="water-range")
router.register("water-readings", views.WaterReadingViewSet, basename="water-reading")
router.register("water-alerts", views.WaterAlertViewSet, basename="water-alert")

urlpatterns = router.urls
