from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register(
    "conservation-statuses", views.ConservationStatusViewSet, basename="conservation-status"
)
router.register("species", views.SpeciesViewSet, basename="species")
router.register("animals", views.AnimalViewSet, basename="animal")
router.register("medical-records", views.MedicalRecordViewSet, basename="medical-record")

urlpatterns = [path("census/", views.CensusView.as_view(), name="wildlife-census"), *router.urls]
