from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("programs", views.ProgramViewSet, basename="program")
router.register("instructors", views.InstructorViewSet, basename="instructor")
router.register("sessions", views.SessionViewSet, basename="session")
router.register("enrollments", views.EnrollmentViewSet, basename="enrollment")

urlpatterns = router.urls
