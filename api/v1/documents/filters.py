from typing import Any

import django_filters
from django.db.models import QuerySet
from rest_framework.filters import SearchFilter
from rest_framework.request import Request

from api.filters import IntegerFilter
from apps.business.documents import selectors
from apps.business.documents.models import Document, Folder


class FolderFilter(django_filters.FilterSet):
    parent = IntegerFilter(field_name="parent", label="Parent folder id")
    top = django_filters.BooleanFilter(
        field_name="parent", lookup_expr="isnull", label="Top-level folders only"
    )

    class Meta:
        model = Folder
        fields = ("parent", "top", "is_public")


class DocumentFilter(django_filters.FilterSet):
    folder = IntegerFilter(field_name="folder", label="Folder id")
    tag = django_filters.CharFilter(field_name="tags__name", label="Tag (lower-case)")
    animal = IntegerFilter(field_name="animals", label="Linked animal id")
    species = IntegerFilter(field_name="species", label="Linked species id")
    habitat = IntegerFilter(field_name="habitats", label="Linked habitat id")
    exhibition = IntegerFilter(field_name="exhibitions", label="Linked exhibition id")
    program = IntegerFilter(field_name="programs", label="Linked program id")

    class Meta:
        model = Document
        fields = ("folder", "tag", "animal", "species", "habitat", "exhibition", "program")

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # A multi-valued join (tags, links) may repeat a document.
        return super().filter_queryset(queryset).distinct()


class DocumentSearchFilter(SearchFilter):
    """``?search=``: every word in the title, description, tags or file name (accent-blind),
    or the words in the text of the current version's PDF (full-text on PostgreSQL)."""

    def filter_queryset(
        self, request: Request, queryset: QuerySet[Any], view: Any
    ) -> QuerySet[Any]:
        term = " ".join(self.get_search_terms(request))
        return selectors.document_search(queryset, term)

    def get_search_fields(self, view: Any, request: Request) -> Any:
        return ("title", "description", "tags", "filename", "text")
