"""Writes shared by every module."""

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Model

from .tasks import send_email

ModelT = TypeVar("ModelT", bound=Model)


def email_send_on_commit(
    *,
    subject: str,
    body: str,
    to: list[str],
    html_body: str | None = None,
    reply_to: list[str] | None = None,
) -> None:
    """Queue an email that leaves only if the surrounding transaction commits."""
    transaction.on_commit(
        lambda: send_email.delay(
            subject=subject, body=body, to=to, html_body=html_body, reply_to=reply_to
        )
    )


def model_create(
    *, model: type[ModelT], fields: Sequence[str], data: Mapping[str, Any], **values: Any
) -> ModelT:
    """Create a ``model`` row from ``data`` (only ``fields`` may be given) and ``values`` the
    service sets itself (the actor, a parent); validated, saved in one transaction."""
    _refuse_unknown(model, fields, data)
    instance = model(**{name: data[name] for name in fields if name in data}, **values)
    instance.full_clean()
    with transaction.atomic():
        instance.save()
    return instance


def model_update(
    *, instance: ModelT, fields: Sequence[str], data: Mapping[str, Any]
) -> tuple[ModelT, list[str]]:
    """Write those of ``fields`` that ``data`` holds with a new value; validate; save them.

    ``fields`` is what the calling service lets be edited: a key of ``data`` outside it is a
    programming error (the serializer and the service disagree), never silently dropped or
    written. Returns the instance and the names of the fields that changed (none: nothing was
    saved). Runs inside the caller's transaction, if any; audit_register records the changes.
    """
    _refuse_unknown(type(instance), fields, data)
    changed = [name for name in fields if name in data and getattr(instance, name) != data[name]]
    if not changed:
        return instance, []
    for name in changed:
        setattr(instance, name, data[name])
    instance.full_clean()
    timestamps = (
        ["updated_at"] if any(f.name == "updated_at" for f in instance._meta.fields) else []
    )
    with transaction.atomic():
        instance.save(update_fields=[*changed, *timestamps])
    return instance, changed


def _refuse_unknown(model: type[Model], fields: Sequence[str], data: Mapping[str, Any]) -> None:
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise TypeError(f"{model.__name__} fields not writable here: {unknown}")
