"""The append-only, hash-chained audit trail."""

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.support.common.models import AppendOnlyError, AppendOnlyModel, AppendOnlyQuerySet

__all__ = ["AppendOnlyError", "AuditChainHead", "AuditEvent"]


class AuditEvent(AppendOnlyModel):
    """One thing that happened: who did what to which object, from where, and what changed.

    Rows are only ever inserted (by ``apps.support.audit.services.record``). The ORM refuses
    updates and deletes; on PostgreSQL and MySQL a trigger refuses them too. ``hash`` covers
    every field and the previous entry's hash, so an altered or removed row breaks the chain
    (``python manage.py audit_verify``).
    """

    sequence = models.PositiveBigIntegerField(_("sequence"), unique=True, editable=False)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True, editable=False)
    actor_id = models.BigIntegerField(_("actor id"), null=True, blank=True, db_index=True)
    actor_label = models.CharField(
        _("actor"), max_length=254, help_text=_("Email of the user, or “system”.")
    )
    actor_roles = models.JSONField(_("actor roles"), default=list, blank=True)
    action = models.CharField(_("action"), max_length=100, db_index=True)
    target_type = models.CharField(_("target type"), max_length=100, blank=True, db_index=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True, db_index=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    request_id = models.CharField(_("request id"), max_length=128, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)
    previous_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    objects: ClassVar[AppendOnlyQuerySet["AuditEvent"]] = AppendOnlyQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ("-sequence",)
        indexes = (models.Index(fields=("target_type", "target_id"), name="audit_target_idx"),)

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} by {self.actor_label}"


class AuditChainHead(models.Model):
    """The single row every new entry locks: it serialises the chain (sequence, last hash)."""

    sequence = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit chain head")

    def __str__(self) -> str:
        return f"audit chain at #{self.sequence}"
