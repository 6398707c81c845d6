"""Documents with versions: permits, lab reports, certificates, procedures, contracts.

A document lives in a folder, whose roles decide who sees it. Every upload is a new
``DocumentVersion`` (its file, SHA-256, size and the content type sniffed from its bytes); the
document points at its current one. Reads are logged (``DocumentAccess``), share links let
someone without an account download it (only a hash of their token is kept), and a deleted
document waits in the trash for ``DOCUMENTS_TRASH_DAYS`` (docs/adr/0035 to 0037).
"""

import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.storage import Storage, storages
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.support.common.models import TimeStampedModel


def documents_storage() -> Storage:
    """The private storage of documents (``STORAGES["documents"]``): a local folder outside
    the media folder, or an S3 bucket read through presigned URLs."""
    return storages["documents"]


class Folder(TimeStampedModel):
    """A shelf of documents: "Permisos", "Veterinaria", "Calidad del agua", "Público".

    Who sees it: administrators and auditors always; everyone signed in when it is public;
    else the holders of one of its roles. A sub-folder is never seen by more people than its
    parent (the services refuse it), so a folder's own rule is the whole rule."""

    name = models.CharField(_("name"), max_length=120)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent folder"),
    )
    description = models.TextField(_("description"), blank=True)
    is_public = models.BooleanField(
        _("public"), default=False, help_text=_("Seen by everyone signed in, visitors included.")
    )
    roles = models.ManyToManyField(
        Group,
        blank=True,
        related_name="document_folders",
        verbose_name=_("roles"),
        help_text=_("The staff roles that see the folder and its documents."),
    )

    class Meta:
        verbose_name = _("folder")
        verbose_name_plural = _("folders")
        ordering = ("name", "id")
        constraints = [
            models.UniqueConstraint(fields=("parent", "name"), name="folder_name_unique_in_parent"),
            models.UniqueConstraint(
                fields=("name",), condition=Q(parent__isnull=True), name="folder_root_name_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    """A word documents are filed under ("cites", "2026", "tortugas"), lower-cased."""

    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Document(TimeStampedModel):
    folder = models.ForeignKey(
        Folder, on_delete=models.PROTECT, related_name="documents", verbose_name=_("folder")
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="documents", verbose_name=_("tags"))
    # The records a document belongs to (a permit to an animal, a lab report to a habitat).
    animals = models.ManyToManyField(
        "wildlife.Animal", blank=True, related_name="documents", verbose_name=_("animals")
    )
    species = models.ManyToManyField(
        "wildlife.Species", blank=True, related_name="documents", verbose_name=_("species")
    )
    habitats = models.ManyToManyField(
        "infrastructure.Habitat", blank=True, related_name="documents", verbose_name=_("habitats")
    )
    exhibitions = models.ManyToManyField(
        "exhibitions.Exhibition",
        blank=True,
        related_name="documents",
        verbose_name=_("exhibitions"),
    )
    programs = models.ManyToManyField(
        "education.Program", blank=True, related_name="documents", verbose_name=_("programs")
    )
    current_version = models.ForeignKey(
        "DocumentVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("current version"),
    )
    # Versions ever numbered (the next one is this plus one), changed under the row's lock.
    version_count = models.PositiveIntegerField(_("versions"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True, db_index=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("deleted by"),
    )
    # A derived search key (lower-case, no accents, docs/adr/0012) of the title, description,
    # tags and the current version's file name; the text inside PDFs is the version's ``text``.
    search_text = models.TextField(editable=False, default="")

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ("-updated_at", "-id")
        indexes = [models.Index(fields=("folder", "deleted_at"), name="document_folder_trash")]
        constraints = [
            models.CheckConstraint(
                condition=Q(deleted_at__isnull=True) | Q(deleted_by__isnull=False),
                name="document_deleted_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def in_trash(self) -> bool:
        return self.deleted_at is not None


def version_file_name(instance: "DocumentVersion", filename: str) -> str:
    """A fresh key for every upload: never the uploaded name, never reused (docs/adr/0037)."""
    return f"{instance.document_id}/{uuid.uuid4().hex}"


class DocumentVersion(models.Model):
    """One upload of a document: never changed after it is written."""

    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="versions", verbose_name=_("document")
    )
    number = models.PositiveIntegerField(_("number"))
    file = models.FileField(
        _("file"), storage=documents_storage, upload_to=version_file_name, max_length=255
    )
    filename = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(_("content type"), max_length=100)
    note = models.CharField(_("note"), max_length=500, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    restored_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("restored from"),
    )
    # The text of a PDF, lower-case and without accents (docs/adr/0012), for search only: read
    # by a task once the version is committed, searched with PostgreSQL's full-text search where
    # there is one (a GIN index) and a substring match elsewhere (docs/adr/0036).
    text = models.TextField(_("text for search"), blank=True, editable=False)
    text_extracted_at = models.DateTimeField(_("text extracted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("document version")
        verbose_name_plural = _("document versions")
        ordering = ("document", "-number")
        constraints = [
            models.UniqueConstraint(
                fields=("document", "number"), name="document_version_number_unique"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="document_version_from_1"),
        ]

    def __str__(self) -> str:
        return f"{self.document_id} v{self.number} {self.filename}"


class AccessChannel(models.TextChoices):
    API = "api", _("Signed-in user")
    SHARE_LINK = "share_link", _("Share link")


class DocumentAccess(models.Model):
    """One download: who (a user or a share link), when, which version, from where."""

    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="accesses", verbose_name=_("document")
    )
    version = models.ForeignKey(
        DocumentVersion, on_delete=models.CASCADE, related_name="+", verbose_name=_("version")
    )
    channel = models.CharField(_("channel"), max_length=16, choices=AccessChannel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    share_link = models.ForeignKey(
        "ShareLink",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="accesses",
        verbose_name=_("share link"),
    )
    accessed_at = models.DateTimeField(_("accessed at"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)

    class Meta:
        verbose_name = _("document access")
        verbose_name_plural = _("document accesses")
        ordering = ("-accessed_at", "-id")
        indexes = [models.Index(fields=("document", "-accessed_at"), name="access_document_time")]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(share_link__isnull=False),
                name="access_by_someone",
            ),
        ]

    def __str__(self) -> str:
        accessed_at = timezone.localtime(self.accessed_at)
        return f"{self.document_id} v{self.version_id} {accessed_at:%Y-%m-%d %H:%M}"


class ShareLink(models.Model):
    """A link that downloads a document without an account (a lab, an authority) until it
    expires, is revoked or has served ``max_downloads``; only the SHA-256 of its token is kept."""

    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="share_links", verbose_name=_("document")
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    note = models.CharField(
        _("note"), max_length=200, blank=True, help_text=_("Who it is for, e.g. the lab.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    max_downloads = models.PositiveIntegerField(_("most downloads"), null=True, blank=True)
    download_count = models.PositiveIntegerField(_("downloads"), default=0)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )

    class Meta:
        verbose_name = _("share link")
        verbose_name_plural = _("share links")
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(max_downloads__isnull=True) | Q(download_count__lte=F("max_downloads")),
                name="share_link_within_its_downloads",
            ),
            models.CheckConstraint(
                condition=Q(max_downloads__isnull=True) | Q(max_downloads__gte=1),
                name="share_link_allows_a_download",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_id} → {timezone.localtime(self.expires_at):%Y-%m-%d %H:%M}"

    def is_live(self, now: object = None) -> bool:
        now = now or timezone.now()
        return (
            self.revoked_at is None
            and self.expires_at > now  # type: ignore[operator]
            and (self.max_downloads is None or self.download_count < self.max_downloads)
        )
