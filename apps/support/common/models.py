from typing import Any, NoReturn, TypeVar

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


_RecordT = TypeVar("_RecordT", bound=models.Model)


class AppendOnlyError(Exception):
    """Code tried to change or delete a record that is only ever added to (audit entries,
    invoices)."""


def _refused(model: type[models.Model], what: str) -> AppendOnlyError:
    return AppendOnlyError(f"{model._meta.label}: records are never {what}.")


class AppendOnlyQuerySet(models.QuerySet[_RecordT]):
    """The manager of an append-only model: bulk changes and deletes raise."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise _refused(self.model, "changed")

    def delete(self) -> NoReturn:
        raise _refused(self.model, "deleted")

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise _refused(self.model, "changed")


class AppendOnlyModel(models.Model):
    """Rows inserted once, never changed or deleted through the ORM: saving a stored row or
    deleting one raises ``AppendOnlyError``. Use ``AppendOnlyQuerySet.as_manager()`` as its
    manager, and a database trigger where the database has them (the ORM is not the only
    writer)."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise _refused(type(self), "changed")
        # Never an UPDATE, even for a new object given the primary key of a stored one.
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise _refused(type(self), "deleted")


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


class DeliveryStatus(models.TextChoices):
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")


class EmailDelivery(models.Model):
    """One email a task must send once (the tickets of an order), by its key.

    A task claims the key before it hands the message to the mail server and marks it sent
    after; a repeated or redelivered task finds it sent and sends nothing. A claim older
    than ``EMAIL_DELIVERY_LEASE_SECONDS`` belongs to a worker that died and is taken over
    (apps.support.common.deliveries)."""

    key = models.CharField(_("key"), max_length=200, unique=True)
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.SENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("email delivery")
        verbose_name_plural = _("email deliveries")

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"
