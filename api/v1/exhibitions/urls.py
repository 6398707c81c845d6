from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

images = SimpleRouter()
images.register("images", views.ImageViewSet, basename="exhibition-image")
exhibitions = SimpleRouter()
exhibitions.register("", views.ExhibitionViewSet, basename="exhibition")

# Pictures and preview links first: their paths would otherwise read as an exhibition's slug.
urlpatterns = [
    *images.urls,
    path("preview/<str:token>/", views.PreviewView.as_view(), name="exhibition-preview"),
    *exhibitions.urls,
]
