from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """Base for every model of the project: when a row was created and last changed."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class IdempotencyKey(models.Model):
    """The first answer to a money-moving POST sent with an ``Idempotency-Key`` header.

    A retry with the same key (same caller) gets this answer again instead of a second order
    or charge; the same key with another request is refused. While the first request still
    runs, ``status_code`` is null and a retry gets 409. Kept ``IDEMPOTENCY_KEY_HOURS``.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    key = models.CharField(_("key"), max_length=255)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    # JSON text with every non-ASCII character escaped: a text column keeps what the answer
    # said exactly, even a NUL that an error message echoed back (jsonb cannot hold one).
    response_json = models.TextField(_("response body (JSON)"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=("user", "key"), name="idempotency_key_unique_per_user")
        ]

    def __str__(self) -> str:
        return self.key
