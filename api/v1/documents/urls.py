from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("folders", views.FolderViewSet, basename="document-folder")
router.register("documents", views.DocumentViewSet, basename="document")

urlpatterns = [
    path("shared/<str:token>/", views.SharedDocumentView.as_view(), name="document-shared"),
    *router.urls,
]
