from django.urls import path

from bench.baseline import exhibition_item, exhibitions_page, species_page
from bench.baseline_slots import slots_page
from bench.baseline_tickets import check_in, purchase
from config.urls import handler400, handler403, handler404, handler500, urlpatterns

urlpatterns = [
    path("bench/baseline/species/", species_page),
    path("bench/baseline/slots/", slots_page),
    path("bench/baseline/purchases/", purchase),
    path("bench/baseline/check-ins/", check_in),
    path("bench/baseline/exhibitions/", exhibitions_page),
    path("bench/baseline/exhibitions/<slug:slug>/", exhibition_item),
    *urlpatterns,
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
