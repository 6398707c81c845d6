"""/api/v1/documents/: folders, documents with versions, downloads (logged), share links,
the trash and the access log.

Who sees what: a folder's roles (administrators and auditors see every folder; a public
folder, everyone signed in). A document in a folder the caller does not see is answered 404,
never 403, and lists never show it. Editors (``DOCUMENT_EDITORS``) upload, restore, trash and
share in the folders they see; administrators write folders.
"""

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from api.filters import DjangoFilterBackend
from api.permissions import IsAdministrator, role_permission, signed_in_user
from api.renderers import AnyFileRenderer
from api.viewsets import BaseViewSet, CatalogReadViewSet
from apps.business.documents import errors, selectors, services
from apps.business.documents.files import ALLOWED_TYPES
from apps.business.documents.models import Document, DocumentVersion, documents_storage
from apps.support.common.errors import ConflictError
from apps.support.common.http import client_ip
from apps.support.security.roles import DOCUMENT_EDITORS, DOCUMENT_LOG_READERS

from .filters import DocumentFilter, DocumentSearchFilter, FolderFilter
from .serializers import (
    AccessSerializer,
    DocumentCreateInput,
    DocumentSerializer,
    DocumentUpdateInput,
    FolderSerializer,
    ShareLinkCreatedSerializer,
    ShareLinkInput,
    ShareLinkSerializer,
    VersionCreateInput,
    VersionRestoreInput,
    VersionSerializer,
)

NUMBER = OpenApiParameter(
    "number", OpenApiTypes.INT, OpenApiParameter.PATH, description="The version's number."
)
LINK_ID = OpenApiParameter(
    "link_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The share link's id."
)
# Room for the form's other fields (title, description, tags, links) beside the file in an
# upload's multipart body.
UPLOAD_FORM_BYTES = 1024 * 1024
READ_OR_EDIT = role_permission(signed_in_read=True, write=DOCUMENT_EDITORS)
LOG_OR_EDIT = role_permission(read=DOCUMENT_LOG_READERS, write=DOCUMENT_EDITORS)

FILE_RESPONSES: dict[Any, Any] = {
    (200, content_type): OpenApiResponse(
        OpenApiTypes.BINARY,
        description=(
            "Local storage: the file, as an attachment under its cleaned original name, with "
            "its sniffed Content-Type, Content-Length and `X-Content-Type-Options: nosniff`."
        ),
    )
    for content_type in ALLOWED_TYPES
}
FILE_RESPONSES[302] = OpenApiResponse(
    description=(
        "S3: `Location` is a presigned URL of the file, valid for "
        "DOCUMENTS_PRESIGNED_URL_SECONDS, which answers it as an attachment."
    )
)
FILE_RESPONSES[409] = OpenApiResponse(description="`file_missing`: the stored file is gone.")


def _is_presigning(storage: Any) -> bool:
    """S3 (and compatible) storage: downloads go straight to the bucket, not through us."""
    return bool(getattr(storage, "querystring_auth", False)) and hasattr(storage, "bucket_name")


def _file_headers(response: HttpResponse) -> HttpResponse:
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _missing() -> ConflictError:
    return ConflictError(
        _("The file of this version is missing from storage."), code=errors.FILE_MISSING
    )


def file_head_response(storage: Any, version: DocumentVersion) -> HttpResponse:
    """HEAD: the headers a download would have (type, size, name) from the version's record,
    once storage says the file is there (409 ``file_missing`` as GET would); it is no
    download: nothing logged, nothing counted. On S3 it answers 200 itself: the presigned
    URL of a GET is signed for GET only."""
    if not storage.exists(str(version.file.name)):
        raise _missing()
    response = HttpResponse(content_type=version.content_type)
    response["Content-Disposition"] = (
        content_disposition_header(True, version.filename) or "attachment"
    )
    response["Content-Length"] = str(version.size)
    return _file_headers(response)


def file_response(
    request: Request,
    *,
    version: DocumentVersion,
    log: Any,
) -> HttpResponse:
    """Log the download (``log()``, committed before we answer), then answer: a redirect to
    a short-lived presigned URL on S3, the file streamed with its headers locally. The file
    is found first (opened locally, asked for on S3): a file missing from storage is 409
    and no download. HEAD answers the headers only and logs nothing."""
    storage = documents_storage()
    if request.method == "HEAD":
        return file_head_response(storage, version)
    disposition = content_disposition_header(True, version.filename) or "attachment"
    response: HttpResponse
    if _is_presigning(storage):
        # One request to the bucket, outside any transaction: the link's download is not
        # used up on an object that is gone.
        if not storage.exists(str(version.file.name)):
            raise _missing()
        log()
        url = storage.url(  # type: ignore[call-arg]  # S3Storage.url
            version.file.name,
            parameters={
                "ResponseContentDisposition": disposition,
                "ResponseContentType": version.content_type,
            },
            expire=settings.DOCUMENTS_PRESIGNED_URL_SECONDS,
        )
        response = HttpResponseRedirect(url)
    else:
        try:
            stored = storage.open(str(version.file.name), "rb")
        except FileNotFoundError as error:
            raise _missing() from error
        try:
            log()
        except BaseException:
            stored.close()
            raise
        response = FileResponse(stored, content_type=version.content_type)  # type: ignore[assignment]
        response["Content-Disposition"] = disposition
        # FileResponse counts the stored bytes itself; the recorded size only if it cannot.
        response.setdefault("Content-Length", str(version.size))
    return _file_headers(response)


@extend_schema_view(
    destroy=extend_schema(
        responses={
            204: None,
            409: OpenApiResponse(description="`folder_not_empty`: it holds something."),
        }
    )
)
class FolderViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    BaseViewSet,
):
    """The folder tree. Everyone signed in lists the folders they see; administrators
    create, change and delete them (a sub-folder is never seen by more people than its
    parent; only an empty folder is deleted)."""

    every_row_roles = selectors.SEE_EVERY_FOLDER
    serializer_class = FolderSerializer
    filterset_class = FolderFilter
    search_fields = ("name",)
    ordering_fields = ("name", "created_at")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_permissions(self) -> list[Any]:
        if self.request.method in ("GET", "HEAD", "OPTIONS"):
            return [role_permission(signed_in_read=True)()]
        return [IsAdministrator()]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.folder_list(user=self.request.user)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.folder_create(
            actor=signed_in_user(self.request), data=serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = services.folder_update(
            actor=signed_in_user(self.request),
            folder=serializer.instance,
            data=serializer.validated_data,
        )

    def perform_destroy(self, instance: Any) -> None:
        services.folder_delete(actor=signed_in_user(self.request), folder=instance)


@extend_schema_view(
    list=extend_schema(operation_id="documents_list"),
    retrieve=extend_schema(operation_id="documents_retrieve"),
)
class DocumentViewSet(CatalogReadViewSet):
    """Documents in the folders the caller sees, with their current version; every upload
    is a new version. See the module's docstring for who may do what."""

    every_row_roles = selectors.SEE_EVERY_FOLDER
    serializer_class = DocumentSerializer
    filterset_class = DocumentFilter
    filter_backends = [DjangoFilterBackend, DocumentSearchFilter, OrderingFilter]
    ordering_fields = ("title", "created_at", "updated_at")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    @classmethod
    def max_upload_body_bytes(cls, action: str | None) -> int | None:
        """Uploads (a new document, a new version) take bodies up to the documents' own
        limit, larger than the API's (``api.middleware.body_limit``); a file over
        DOCUMENTS_MAX_UPLOAD_BYTES within it gets the clear 400 ``file_too_large``."""
        if action in ("create", "add_version"):
            return settings.DOCUMENTS_MAX_UPLOAD_BYTES + UPLOAD_FORM_BYTES
        return None

    def get_parsers(self) -> list[BaseParser]:
        # The document's first upload is multipart; its metadata is changed with JSON.
        request = getattr(self, "request", None)
        action_map = getattr(self, "action_map", {})
        if request is not None and action_map.get(request.method.lower()) == "create":
            return [MultiPartParser()]
        return super().get_parsers()

    def get_permissions(self) -> list[Any]:
        if self.action in ("access_log", "share_links", "trash"):
            return [LOG_OR_EDIT()]
        return [READ_OR_EDIT()]

    def get_queryset(self) -> QuerySet[Any]:
        user = self.request.user
        if self.action == "trash":
            return selectors.document_list(user=user, trash=True)
        if self.action == "restore":
            return selectors.document_any(user=user)
        return selectors.document_list(user=user)

    def _document(self) -> Document:
        document: Document = self.get_object()
        return document

    def _refreshed(self, document: Document) -> dict[str, Any]:
        fresh = selectors.document_list(user=self.request.user, trash=document.in_trash)
        return self.get_serializer(fresh.get(pk=document.pk)).data

    @extend_schema(
        operation_id="documents_create",
        request={"multipart/form-data": DocumentCreateInput},
        responses={201: DocumentSerializer},
    )
    def create(self, request: Request) -> Response:
        """Upload a new document (its version 1) into a folder the caller sees. The file's
        type is sniffed from its bytes; a refused file stores nothing."""
        data = DocumentCreateInput(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        document = services.document_create(
            actor=signed_in_user(request),
            folder=fields.pop("folder"),
            title=fields.pop("title"),
            file=fields.pop("file"),
            data=fields,
        )
        return Response(self._refreshed(document), status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="documents_partial_update",
        request=DocumentUpdateInput,
        responses={200: DocumentSerializer},
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        """Title, description, folder, tags and the records it belongs to."""
        document = self._document()
        data = DocumentUpdateInput(
            data=request.data, partial=True, context=self.get_serializer_context()
        )
        data.is_valid(raise_exception=True)
        document = services.document_update(
            actor=signed_in_user(request), document=document, data=data.validated_data
        )
        return Response(self._refreshed(document))

    @extend_schema(operation_id="documents_destroy", responses={204: None})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        """Move to the trash: restorable for DOCUMENTS_TRASH_DAYS, then deleted for good."""
        services.document_trash(actor=signed_in_user(request), document=self._document())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="documents_trash_list",
        responses={200: DocumentSerializer(many=True)},
        filters=False,
    )
    @action(detail=False, methods=["get"], url_path="trash", filter_backends=[])
    def trash(self, request: Request) -> Response:
        """Documents in the trash (in the folders the caller sees), most recently deleted
        first; each is deleted for good DOCUMENTS_TRASH_DAYS after it was deleted."""
        documents = self.get_queryset().order_by("-deleted_at", "-id")
        page = self.paginate_queryset(documents)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        operation_id="documents_restore", request=None, responses={200: DocumentSerializer}
    )
    @action(detail=True, methods=["post"], url_path="restore")
    def restore(self, request: Request, pk: str | None = None) -> Response:
        """Take a document out of the trash."""
        document = services.document_restore(
            actor=signed_in_user(request), document=self._document()
        )
        return Response(self._refreshed(document))

    # --- Versions ------------------------------------------------------------------------

    @extend_schema(
        operation_id="documents_versions_list",
        responses={200: VersionSerializer(many=True)},
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="versions",
        parser_classes=[MultiPartParser],
        filter_backends=[],
    )
    def versions(self, request: Request, pk: str | None = None) -> Response:
        """Every version, newest first."""
        versions = selectors.version_list(self._document()).select_related("restored_from")
        page = self.paginate_queryset(versions)
        return self.get_paginated_response(VersionSerializer(page, many=True).data)

    @extend_schema(
        operation_id="documents_versions_create",
        request={"multipart/form-data": VersionCreateInput},
        responses={201: VersionSerializer},
        filters=False,
    )
    @versions.mapping.post
    def add_version(self, request: Request, pk: str | None = None) -> Response:
        """Upload a new version; it becomes the current one. Two uploads at once get
        consecutive numbers."""
        document = self._document()
        data = VersionCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.version_add(
            actor=signed_in_user(request), document=document, **data.validated_data
        )
        return Response(VersionSerializer(version).data, status=status.HTTP_201_CREATED)

    def _version(self, document: Document, number: str | None) -> DocumentVersion:
        version: DocumentVersion = get_object_or_404(
            DocumentVersion.objects.select_related("restored_from", "uploaded_by"),
            document=document,
            number=number,
        )
        return version

    @extend_schema(
        operation_id="documents_versions_restore",
        parameters=[NUMBER],
        request=VersionRestoreInput,
        responses={201: VersionSerializer},
        filters=False,
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"versions/(?P<number>\d+)/restore",
        filter_backends=[],
    )
    def restore_version(
        self, request: Request, pk: str | None = None, number: str | None = None
    ) -> Response:
        """Make an old version current again, as a new version (a copy of its file,
        checked against its SHA-256)."""
        document = self._document()
        version = self._version(document, number)
        data = VersionRestoreInput(data=request.data)
        data.is_valid(raise_exception=True)
        restored = services.version_restore(
            actor=signed_in_user(request),
            document=document,
            version=version,
            note=data.validated_data.get("note", ""),
        )
        return Response(VersionSerializer(restored).data, status=status.HTTP_201_CREATED)

    # --- Downloads -----------------------------------------------------------------------

    def _download(self, request: Request, version: DocumentVersion | None) -> HttpResponse:
        document = self._document()
        user = signed_in_user(request)
        version = version or document.current_version
        if version is None:
            raise ConflictError(
                _("The document has no version yet."), code=errors.DOCUMENT_HAS_NO_VERSION
            )

        def log() -> None:
            services.document_download(
                actor=user,
                document=document,
                version=version,
                ip_address=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )

        return file_response(request, version=version, log=log)

    @extend_schema(operation_id="documents_download", responses=FILE_RESPONSES, filters=False)
    @action(
        detail=True,
        methods=["get"],
        url_path="download",
        renderer_classes=[JSONRenderer, AnyFileRenderer],
        filter_backends=[],
    )
    def download(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The current version's file. Every download is logged (who, when, which version,
        from where) before the answer."""
        return self._download(request, None)

    @extend_schema(
        operation_id="documents_versions_download",
        parameters=[NUMBER],
        responses=FILE_RESPONSES,
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"versions/(?P<number>\d+)/download",
        renderer_classes=[JSONRenderer, AnyFileRenderer],
        filter_backends=[],
    )
    def download_version(
        self, request: Request, pk: str | None = None, number: str | None = None
    ) -> HttpResponse:
        """One version's file, logged like the current one's."""
        return self._download(request, self._version(self._document(), number))

    @extend_schema(
        operation_id="documents_access_log",
        responses={200: AccessSerializer(many=True)},
        filters=False,
    )
    @action(detail=True, methods=["get"], url_path="access-log", filter_backends=[])
    def access_log(self, request: Request, pk: str | None = None) -> Response:
        """Every download, newest first: who (a user or a share link), when, which version,
        from which address and client."""
        page = self.paginate_queryset(selectors.access_log(self._document()))
        return self.get_paginated_response(AccessSerializer(page, many=True).data)

    # --- Share links ---------------------------------------------------------------------

    @extend_schema(
        operation_id="documents_share_links_list",
        responses={200: ShareLinkSerializer(many=True)},
        filters=False,
    )
    @action(detail=True, methods=["get"], url_path="share-links", filter_backends=[])
    def share_links(self, request: Request, pk: str | None = None) -> Response:
        """The document's share links, newest first (never their tokens)."""
        page = self.paginate_queryset(selectors.share_link_list(self._document()))
        return self.get_paginated_response(ShareLinkSerializer(page, many=True).data)

    @extend_schema(
        operation_id="documents_share_links_create",
        request=ShareLinkInput,
        responses={201: ShareLinkCreatedSerializer},
        filters=False,
    )
    @share_links.mapping.post
    def create_share_link(self, request: Request, pk: str | None = None) -> Response:
        """A link for someone without an account (a lab, an authority): it expires, may
        allow a number of downloads, and can be revoked. Its token is in this answer only."""
        document = self._document()
        data = ShareLinkInput(data=request.data)
        data.is_valid(raise_exception=True)
        link, token = services.share_link_create(
            actor=signed_in_user(request), document=document, **data.validated_data
        )
        body = ShareLinkSerializer(link).data
        body["token"] = token
        body["url"] = reverse("v1:document-shared", kwargs={"token": token}, request=request)
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="documents_share_links_revoke",
        parameters=[LINK_ID],
        request=None,
        responses={200: ShareLinkSerializer},
        filters=False,
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"share-links/(?P<link_id>\d+)/revoke",
        filter_backends=[],
    )
    def revoke_share_link(
        self, request: Request, pk: str | None = None, link_id: str | None = None
    ) -> Response:
        """Stop a share link at once (downloads already made stay in the log)."""
        document = self._document()
        link = get_object_or_404(document.share_links, pk=link_id)
        link = services.share_link_revoke(actor=signed_in_user(request), link=link)
        return Response(ShareLinkSerializer(link).data)


class SharedDocumentView(APIView):
    """A document downloaded through a share link, by someone without an account. 404 for
    an unknown, expired, revoked or used-up link (which of these is not told)."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    renderer_classes = [JSONRenderer, AnyFileRenderer]

    @extend_schema(
        operation_id="documents_shared_download",
        responses={
            **FILE_RESPONSES,
            404: OpenApiResponse(description="`share_link_invalid`."),
        },
        parameters=[
            OpenApiParameter(
                "token", OpenApiTypes.STR, OpenApiParameter.PATH, description="The link's token."
            )
        ],
    )
    def get(self, request: Request, token: str) -> HttpResponse:
        """Download the document's current version. Each use is counted and logged once its
        file is found (a file missing from storage is 409 and uses nothing up); HEAD answers
        the headers and counts nothing."""
        version = selectors.shared_version(token)
        if version is None:
            raise services.share_link_invalid()

        def count() -> None:
            services.share_link_download(
                token=token,
                version=version,
                ip_address=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )

        return file_response(request, version=version, log=count)
