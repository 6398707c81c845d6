"""Representations of folders, documents, versions, share links and downloads."""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import DateTimeField, InputSerializer, ModelSerializer
from apps.business.documents import selectors
from apps.business.documents.models import (
    Document,
    DocumentAccess,
    DocumentVersion,
    Folder,
    ShareLink,
)
from apps.business.education.models import Program
from apps.business.exhibitions.models import Exhibition
from apps.business.infrastructure.models import Habitat
from apps.business.wildlife.models import Animal, Species
from apps.support.security.roles import Role

LINKS = {
    "animals": Animal,
    "species": Species,
    "habitats": Habitat,
    "exhibitions": Exhibition,
    "programs": Program,
}
MAX_TAGS = 20


@extend_schema_field(OpenApiTypes.INT)
class VisibleFolderField(serializers.PrimaryKeyRelatedField):
    """A folder the caller sees; any other id reads as one that does not exist."""

    def get_queryset(self) -> Any:
        return selectors.visible_folders(self.context["request"].user)


@extend_schema_field(serializers.ChoiceField(choices=Role.choices))
class RoleNameField(serializers.SlugRelatedField):
    """A staff role, by name."""


class FolderSerializer(ModelSerializer):
    parent: Any = VisibleFolderField(
        allow_null=True, required=False, help_text="The parent folder; null at the top."
    )
    roles = RoleNameField(
        slug_field="name",
        many=True,
        required=False,
        queryset=Group.objects.filter(name__in=Role.values),
        help_text=(
            "The staff roles that see the folder and its documents (administrators and "
            "auditors see every folder)."
        ),
    )

    class Meta:
        model = Folder
        fields = (
            "id",
            "name",
            "parent",
            "description",
            "is_public",
            "roles",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "created_at", "updated_at")


class UserBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()


class VersionSerializer(ModelSerializer):
    uploaded_by = UserBriefSerializer(read_only=True)
    restored_from = serializers.SerializerMethodField(
        help_text="The number of the version this one restored, if any."
    )

    class Meta:
        model = DocumentVersion
        fields = (
            "number",
            "filename",
            "sha256",
            "size",
            "content_type",
            "note",
            "uploaded_by",
            "created_at",
            "restored_from",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_restored_from(self, version: DocumentVersion) -> int | None:
        restored = version.restored_from
        return restored.number if restored is not None else None


class DocumentSerializer(ModelSerializer):
    tags: Any = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    animals: Any = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    species: Any = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    habitats: Any = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    exhibitions: Any = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    programs: Any = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    current_version = VersionSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Document
        fields = (
            "id",
            "title",
            "description",
            "folder",
            "tags",
            "animals",
            "species",
            "habitats",
            "exhibitions",
            "programs",
            "current_version",
            "version_count",
            "created_at",
            "updated_at",
            "deleted_at",
        )
        read_only_fields = fields


def _tags_field() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=50),
        required=False,
        max_length=MAX_TAGS,
        help_text="Words the document is filed under (lower-cased, e.g. cites, 2026).",
    )


def _link_field(model: Any, name: str) -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(
        queryset=model.objects.all(),
        many=True,
        required=False,
        help_text=f"Ids of the {name} the document belongs to.",
    )


class DocumentLinksMixin(serializers.Serializer):
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    tags = _tags_field()
    animals = _link_field(Animal, "animals")
    species = _link_field(Species, "species")
    habitats = _link_field(Habitat, "habitats")
    exhibitions = _link_field(Exhibition, "exhibitions")
    programs = _link_field(Program, "education programs")


class DocumentCreateInput(DocumentLinksMixin, InputSerializer):
    """multipart/form-data: the document and its first version, with its tags and the records
    it belongs to (each a repeated form field: ``tags=cites&tags=2026&animals=12``)."""

    title = serializers.CharField(max_length=200)
    folder = VisibleFolderField(help_text="A folder the caller sees.")
    # An empty file passes here: the service refuses it with its own code (file_empty).
    file = serializers.FileField(
        allow_empty_file=True,
        help_text=(
            "PDF, JPEG/PNG/WebP, docx/xlsx/pptx/odt/ods/odp or CSV, recognised by its bytes; "
            "at most DOCUMENTS_MAX_UPLOAD_BYTES."
        ),
    )
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text="About this version."
    )


class DocumentUpdateInput(DocumentLinksMixin, InputSerializer):
    """A document's metadata; the fields sent are changed, the others kept."""

    title = serializers.CharField(max_length=200, required=False)
    folder = VisibleFolderField(required=False, help_text="A folder the caller sees.")


class VersionCreateInput(InputSerializer):
    """multipart/form-data: a new version's file and note."""

    file = serializers.FileField(
        allow_empty_file=True, help_text=DocumentCreateInput().fields["file"].help_text
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class VersionRestoreInput(InputSerializer):
    """The note of the version made by restoring an old one."""

    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text='Default: "Restored from version n."',
    )


class ShareLinkInput(InputSerializer):
    """A share link's life and limit."""

    expires_in_hours = serializers.IntegerField(
        min_value=1,
        max_value=settings.DOCUMENTS_SHARE_LINK_MAX_HOURS,
        help_text="How long the link works.",
    )
    max_downloads = serializers.IntegerField(
        min_value=1,
        max_value=settings.DOCUMENTS_SHARE_LINK_MAX_DOWNLOADS,
        required=False,
        allow_null=True,
        help_text="Downloads the link allows; null or absent: any number until it expires.",
    )
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text=_("Who it is for.")
    )


class ShareLinkSerializer(ModelSerializer):
    created_by = UserBriefSerializer(read_only=True)
    expires_at = DateTimeField(read_only=True)
    is_live = serializers.SerializerMethodField()

    class Meta:
        model = ShareLink
        fields = (
            "id",
            "note",
            "created_by",
            "created_at",
            "expires_at",
            "max_downloads",
            "download_count",
            "last_used_at",
            "revoked_at",
            "is_live",
        )
        read_only_fields = fields

    def get_is_live(self, link: ShareLink) -> bool:
        return link.is_live()


class ShareLinkCreatedSerializer(ShareLinkSerializer):
    token = serializers.CharField(help_text="Shown once: only its hash is kept.")
    url = serializers.URLField(help_text="The link to hand out: GET downloads the document.")

    class Meta(ShareLinkSerializer.Meta):
        fields = (*ShareLinkSerializer.Meta.fields, "token", "url")  # type: ignore[assignment]
        read_only_fields = fields  # type: ignore[assignment]


class AccessSerializer(ModelSerializer):
    version = serializers.IntegerField(source="version.number", read_only=True)
    user = UserBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = DocumentAccess
        fields = (
            "id",
            "accessed_at",
            "version",
            "channel",
            "user",
            "share_link",
            "ip_address",
            "user_agent",
        )
        read_only_fields = fields
