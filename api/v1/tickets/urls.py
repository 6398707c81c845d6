from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("ticket-types", views.TicketTypeViewSet, basename="ticket-type")
router.register("schedules", views.OpeningScheduleViewSet, basename="schedule")
router.register("closures", views.ClosureViewSet, basename="closure")
router.register("slots", views.SlotViewSet, basename="slot")
router.register("tickets", views.TicketViewSet, basename="ticket")
router.register("check-ins", views.CheckInViewSet, basename="check-in")

urlpatterns = [
    path("attendance/", views.AttendanceView.as_view(), name="tickets-attendance"),
    *router.urls,
]
