from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("campaigns", views.CampaignViewSet, basename="campaign")
router.register("donations", views.DonationViewSet, basename="donation")

urlpatterns = [
    path(
        "reports/donations/",
        views.DonationsReportView.as_view(),
        name="payments-reports-donations",
    ),
    *router.urls,
]
