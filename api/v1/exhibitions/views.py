"""/api/v1/exhibitions/: the park's exhibitions, as published now, for the website, the
visitor app and the in-park screens; drafts, revisions, scheduling and preview links for
content editors and curators (docs/api/exhibitions.md)."""

from typing import Any, cast

from django.conf import settings
from django.core.validators import RegexValidator
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from api.conditional import ETagMixin
from api.media import media_url_builder
from api.pagination import ReadPage, StandardPagination
from api.permissions import role_permission, signed_in_user
from api.viewsets import BaseViewSet
from apps.business.exhibitions import errors, selectors, services
from apps.business.exhibitions.models import Exhibition, ExhibitionKind
from apps.support.common.errors import NotFoundError, ServiceError
from apps.support.security.roles import EXHIBITION_EDITORS, has_any_role

from .serializers import (
    CompareQuery,
    CompareSerializer,
    EditorExhibitionSerializer,
    EditorImageSerializer,
    ExhibitionInput,
    ExhibitionSerializer,
    ImageInput,
    PreviewLinkCreatedSerializer,
    PreviewLinkInput,
    PreviewLinkSerializer,
    PublicShape,
    PublishInput,
    RevisionDetailSerializer,
    RevisionSerializer,
    UnpublishInput,
    content_representation,
    status_representation,
)

EDITORS = role_permission(public_read=True, write=EXHIBITION_EDITORS)
EDITORS_ONLY = role_permission(read=EXHIBITION_EDITORS, write=EXHIBITION_EDITORS)
LIST_RENDITIONS = ("card",)
ITEM_RENDITIONS = ("card", "hero", "gallery")
MAX_RENDITIONS = 5


def _renditions_pattern() -> str:
    names = "|".join(settings.EXHIBITION_RENDITIONS)
    return rf"^({names})(,({names})){{0,{MAX_RENDITIONS - 1}}}$"


class PreviewQuery(serializers.Serializer):
    lang = serializers.ChoiceField(
        choices=["es", "en"],
        required=False,
        help_text=_("The language of the texts; default: Accept-Language, else Spanish."),
    )
    renditions = serializers.CharField(
        required=False,
        validators=[
            RegexValidator(
                _renditions_pattern(),
                message=_("Picture sizes are up to five of: %(names)s.")
                % {"names": ", ".join(settings.EXHIBITION_RENDITIONS)},
                code=errors.RENDITION_UNKNOWN,
            )
        ],
        help_text=_("Picture sizes, comma-separated: thumbnail, card, hero, gallery, original."),
    )


class ReadQuery(PreviewQuery):
    preview = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("Content editors and curators: the latest drafts instead of what is live."),
    )


class ListQuery(ReadQuery):
    open_on = serializers.DateField(required=False, help_text=_("Open on this day."))
    species = serializers.IntegerField(
        required=False, min_value=1, max_value=2**62, help_text=_("Showing this species.")
    )
    section = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**62,
        help_text=_("In this section (or a habitat of it)."),
    )
    habitat = serializers.IntegerField(
        required=False, min_value=1, max_value=2**62, help_text=_("In this habitat.")
    )
    kind = serializers.ChoiceField(choices=ExhibitionKind.choices, required=False)


def _read_options(
    request: Request, query_class: type[PreviewQuery], default_renditions: tuple[str, ...]
) -> tuple[dict[str, Any], str, tuple[str, ...]]:
    query = query_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    options = {"preview": False, **query.validated_data}
    if options["preview"] and not has_any_role(request.user, EXHIBITION_EDITORS):
        if not request.user or not request.user.is_authenticated:
            raise NotAuthenticated
        raise PermissionDenied
    language = options.get("lang") or translation.get_language() or settings.LANGUAGE_CODE
    language = language if language in ("es", "en") else settings.LANGUAGE_CODE
    renditions = default_renditions
    if "renditions" in options:  # names checked by the query's pattern; each once
        renditions = tuple(dict.fromkeys(options["renditions"].split(",")))
    return options, language, renditions


def _editor_representation(exhibition: Exhibition) -> dict[str, Any]:
    row = selectors.exhibition_rows().get(pk=exhibition.pk)
    return {
        "content": content_representation(row.get_latest_revision_as_object()),
        "status": status_representation(row),
    }


def _revision_representation(
    row: Exhibition, revision: Any, *, content: bool = False
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": revision.pk,
        "created_at": revision.created_at,
        "author": revision.user.email if revision.user else None,
        "title": revision.object_str,
        "live": revision.pk == row.live_revision_id,
        "latest": revision.pk == row.latest_revision_id,
        "scheduled_for": revision.approved_go_live_at,
    }
    if content:
        data["content"] = content_representation(revision.as_object())
        return dict(RevisionDetailSerializer(data).data)
    return dict(RevisionSerializer(data).data)


class ExhibitionViewSet(ETagMixin, BaseViewSet):
    """Exhibitions. Everyone reads what is published at the moment of the request (scheduled
    publications and unpublications take effect on the minute, whether or not the scheduling
    job has run); content editors and curators write drafts, publish them now or at a time,
    compare and restore revisions, and make preview links."""

    permission_classes = [EDITORS]
    every_row_roles = EXHIBITION_EDITORS  # drafts and scheduled ones, with ?preview=true
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    filter_backends: list[Any] = []
    serializer_class = ExhibitionSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    selector = selectors.exhibition_rows

    def etag_response(self, request: Request, response: Response) -> bool:
        return self.action in ("list", "retrieve")

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.action in ("list", "retrieve") and response.status_code in (200, 304):
            private = getattr(self, "previewing", True)  # unknown (a refusal): never shared
            response["Cache-Control"] = "private, no-store" if private else "no-cache"
        return response

    def _shape(
        self, rows: list[dict[str, Any]], language: str, renditions: tuple[str, ...], detail: bool
    ) -> list[dict[str, Any]]:
        return PublicShape(
            rows,
            language=language,
            renditions=renditions,
            url=media_url_builder(self.request),
            detail=detail,
        ).all()

    @extend_schema(parameters=[ListQuery], responses=ExhibitionSerializer(many=True))
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        options, language, renditions = _read_options(request, ListQuery, LIST_RENDITIONS)
        self.previewing = options["preview"]
        wanted = selectors.ExhibitionFilter(
            open_on=options.get("open_on"),
            species=options.get("species"),
            section=options.get("section"),
            habitat=options.get("habitat"),
            kind=options.get("kind"),
        )
        if options["preview"]:
            drafts = selectors.drafts(wanted)
            draft_page = self.paginate_queryset(drafts)
            pairs = draft_page if draft_page is not None else drafts
            results = self._shape(
                [selectors.row_of(draft, detail=False) for _row, draft in pairs],
                language,
                renditions,
                detail=False,
            )
            for data, (row, _draft) in zip(results, pairs, strict=True):
                data["status"] = status_representation(row)
        else:
            paginator = cast(StandardPagination, self.paginator)
            number = request.query_params.get(paginator.page_query_param) or "1"
            rows: Any
            # Usually one query, page and count. Up to a billion pages: a larger number (one
            # past any offset the database takes, or past what int() reads) is the
            # paginator's to refuse.
            if number.isdecimal() and len(number) <= 9 and int(number) >= 1:
                size = paginator.get_page_size(request)
                start = (int(number) - 1) * size
                rows = ReadPage(
                    *selectors.live_rows(timezone.now(), wanted, start=start, size=size),
                    start=start,
                )
            else:  # "last", or a page the paginator refuses
                rows, _count = selectors.live_rows(timezone.now(), wanted)
            page: Any = self.paginate_queryset(rows)
            results = self._shape(list(page), language, renditions, detail=False)
        response = self.get_paginated_response(results)
        response["Content-Language"] = language
        return response

    @extend_schema(parameters=[ReadQuery], responses=ExhibitionSerializer)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        options, language, renditions = _read_options(request, ReadQuery, ITEM_RENDITIONS)
        self.previewing = options["preview"]
        slug = kwargs["slug"]
        if options["preview"]:
            row = get_object_or_404(selectors.exhibition_rows(), slug=slug)
            draft = row.get_latest_revision_as_object()
            [data] = self._shape([selectors.row_of(draft, detail=True)], language, renditions, True)
            data["status"] = status_representation(row)
        else:
            found = selectors.live_row(slug, timezone.now())
            if found is None:
                raise NotFoundError(_("No exhibition is published under this name."))
            [data] = self._shape([found], language, renditions, detail=True)
        response = Response(data)
        response["Content-Language"] = language
        return response

    @extend_schema(request=ExhibitionInput, responses={201: EditorExhibitionSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A new exhibition, as a draft (its first revision)."""
        data = ExhibitionInput(data=request.data)
        data.is_valid(raise_exception=True)
        exhibition = services.exhibition_create(
            actor=signed_in_user(request), data=data.validated_data
        )
        return Response(_editor_representation(exhibition), status=status.HTTP_201_CREATED)

    @extend_schema(request=ExhibitionInput, responses=EditorExhibitionSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A new revision of the draft; what is published stays until the draft is."""
        row = self.get_object()
        data = ExhibitionInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.exhibition_update(
            actor=signed_in_user(request), exhibition=row, data=data.validated_data
        )
        return Response(_editor_representation(row))

    @extend_schema(
        operation_id="exhibitions_publish",
        request=PublishInput,
        responses=EditorExhibitionSerializer,
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, slug: str | None = None) -> Response:
        """Publish the latest draft now, or at ``at`` (what is live stays until then)."""
        row = self.get_object()
        data = PublishInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.exhibition_publish(
            actor=signed_in_user(request), exhibition=row, at=data.validated_data.get("at")
        )
        return Response(_editor_representation(row))

    @extend_schema(
        operation_id="exhibitions_unpublish",
        request=UnpublishInput,
        responses=EditorExhibitionSerializer,
    )
    @action(detail=True, methods=["post"])
    def unpublish(self, request: Request, slug: str | None = None) -> Response:
        """Take it off the public site now, or at ``at``; ``cancel`` drops a scheduled one."""
        row = self.get_object()
        data = UnpublishInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.exhibition_unpublish(
            actor=signed_in_user(request),
            exhibition=row,
            at=data.validated_data.get("at"),
            cancel=data.validated_data["cancel"],
        )
        return Response(_editor_representation(row))

    @extend_schema(responses=RevisionSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], permission_classes=[EDITORS_ONLY])
    def revisions(self, request: Request, slug: str | None = None) -> Response:
        """Every revision, newest first: who saved it, when, and which is live or scheduled."""
        row = self.get_object()
        page = self.paginate_queryset(selectors.revisions(row))
        return self.get_paginated_response(
            [_revision_representation(row, revision) for revision in page or []]
        )

    @extend_schema(
        operation_id="exhibitions_revisions_retrieve",
        responses=RevisionDetailSerializer,
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"revisions/(?P<revision_id>\d+)",
        permission_classes=[EDITORS_ONLY],
    )
    def revision(
        self, request: Request, slug: str | None = None, revision_id: str = ""
    ) -> Response:
        """One revision with its content, in the shape a PATCH takes."""
        row = self.get_object()
        revision = get_object_or_404(selectors.revisions(row), pk=_revision_id(revision_id))
        return Response(_revision_representation(row, revision, content=True))

    @extend_schema(
        operation_id="exhibitions_revisions_compare",
        parameters=[CompareQuery],
        responses=CompareSerializer,
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="revisions/compare",
        permission_classes=[EDITORS_ONLY],
    )
    def compare(self, request: Request, slug: str | None = None) -> Response:
        """What changed between revisions ``a`` and ``b``, field by field."""
        row = self.get_object()
        query = CompareQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = selectors.revisions(row).in_bulk(
            [query.validated_data["a"], query.validated_data["b"]]
        )
        first, second = found.get(query.validated_data["a"]), found.get(query.validated_data["b"])
        if first is None or second is None:
            raise ServiceError(
                _("This exhibition has no such revision."),
                code=errors.REVISION_NOT_FOUND,
                field="a" if first is None else "b",
            )
        return Response(
            {
                "a": first.pk,
                "b": second.pk,
                "changes": services.compare_revisions(first, second),
            }
        )

    @extend_schema(
        operation_id="exhibitions_revisions_restore",
        request=None,
        responses={201: EditorExhibitionSerializer},
    )
    @action(detail=True, methods=["post"], url_path=r"revisions/(?P<revision_id>\d+)/restore")
    def restore(self, request: Request, slug: str | None = None, revision_id: str = "") -> Response:
        """That revision's content as a new revision of the draft (publish it to show it)."""
        row = self.get_object()
        services.exhibition_restore(
            actor=signed_in_user(request), exhibition=row, revision_id=_revision_id(revision_id)
        )
        return Response(_editor_representation(row), status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        operation_id="exhibitions_preview_links_list",
        responses=PreviewLinkSerializer(many=True),
        filters=False,
    )
    @extend_schema(
        methods=["POST"],
        operation_id="exhibitions_preview_links_create",
        request=PreviewLinkInput,
        responses={201: PreviewLinkCreatedSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="preview-links",
        permission_classes=[EDITORS_ONLY],
    )
    def preview_links(self, request: Request, slug: str | None = None) -> Response:
        """Signed links that show one draft revision to anyone holding them, until they
        expire (24 hours unless said) or are revoked; for a front end to render a draft."""
        row = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.preview_links(row))
            return self.get_paginated_response(PreviewLinkSerializer(page, many=True).data)
        data = PreviewLinkInput(data=request.data)
        data.is_valid(raise_exception=True)
        link, token = services.preview_link_create(
            actor=signed_in_user(request),
            exhibition=row,
            expires_in_hours=data.validated_data.get("expires_in_hours"),
            revision_id=data.validated_data.get("revision"),
        )
        output = PreviewLinkSerializer(link).data
        output["token"] = token
        output["url"] = reverse("v1:exhibition-preview", kwargs={"token": token}, request=request)
        return Response(output, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="exhibitions_preview_links_revoke",
        request=None,
        responses=PreviewLinkSerializer,
    )
    @action(detail=True, methods=["post"], url_path=r"preview-links/(?P<link_id>\d+)/revoke")
    def revoke_preview_link(
        self, request: Request, slug: str | None = None, link_id: str = ""
    ) -> Response:
        """The link stops working at once."""
        row = self.get_object()
        link = get_object_or_404(selectors.preview_links(row), pk=_revision_id(link_id))
        link = services.preview_link_revoke(actor=signed_in_user(request), link=link)
        return Response(PreviewLinkSerializer(link).data)


def _revision_id(value: str) -> int:
    number = int(value)
    if number > 2**62:
        raise NotFoundError(_("No such revision."))
    return number


class PreviewView(APIView):
    """A draft revision, shown to whoever holds a preview link (in the public shape, with
    ``revision`` and ``expires_at``); 404 once the link has expired or been revoked."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="exhibitions_preview_retrieve",
        parameters=[PreviewQuery],
        responses=ExhibitionSerializer,
    )
    def get(self, request: Request, token: str) -> Response:
        _options, language, renditions = _read_options(request, PreviewQuery, ITEM_RENDITIONS)
        link, exhibition = services.preview_link_open(token)
        [data] = PublicShape(
            [selectors.row_of(exhibition, detail=True)],
            language=language,
            renditions=renditions,
            url=media_url_builder(request),
            detail=True,
        ).all()
        data["revision"] = link.revision_id
        data["expires_at"] = link.expires_at
        response = Response(data)
        response["Cache-Control"] = "private, no-store"
        response["Content-Language"] = language
        response["X-Robots-Tag"] = "noindex"
        return response


class ImageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """The exhibitions' pictures, for editors: upload (checked by content and size, like
    species pictures) and pick by id for a hero image, the gallery or an image block."""

    permission_classes = [role_permission(read=EXHIBITION_EDITORS, write=EXHIBITION_EDITORS)]
    serializer_class = EditorImageSerializer
    selector = selectors.images
    filter_backends: list[Any] = []
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": ImageInput},
        responses={201: EditorImageSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ImageInput(data=request.data)
        data.is_valid(raise_exception=True)
        image = services.image_create(actor=signed_in_user(request), **data.validated_data)
        return Response(EditorImageSerializer(image).data, status=status.HTTP_201_CREATED)
