"""Automatic audit entries for the create, update and delete of registered models.

A module registers its models once, in its ``AppConfig.ready``::

    audit_register(Species, exclude=("updated_at",))

Every save and delete of such a model — through services, the back office or a shell — then
writes ``<app>.<model>.created|updated|deleted`` with field-level old and new values. Audit is
a cross-cutting concern, so signals are the right tool here (ADR 8).
"""

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models.fields.files import FieldFile
from django.db.models.signals import post_delete, post_save, pre_save

from .chain import json_normalise

_registered: dict[type[models.Model], tuple[str, ...]] = {}
_ALWAYS_EXCLUDED = ("created_at", "updated_at")


def _tracked_fields(model: type[models.Model], update_fields: Any = None) -> list[models.Field]:
    """The audited fields of ``model``; of a save with ``update_fields``, only those written
    (the others were not saved, whatever the instance holds)."""
    excluded = _registered[model]
    return [
        field
        for field in model._meta.concrete_fields
        if field.name not in excluded
        and field.name not in _ALWAYS_EXCLUDED
        and (update_fields is None or field.name in update_fields or field.attname in update_fields)
    ]


def _stored_value(field: models.Field, instance: models.Model) -> Any:
    value = field.value_from_object(instance)
    if isinstance(value, FieldFile):  # as the column stores it (and .values() reads it)
        return value.name or ""
    if isinstance(field, models.DecimalField) and value is not None:
        # 110 and 110.0 are one stored value: compare them at the column's precision.
        return Decimal(value).quantize(Decimal(1).scaleb(-field.decimal_places))
    return value


def _values(instance: models.Model, update_fields: Any = None) -> dict[str, Any]:
    return json_normalise(
        {
            field.attname: _stored_value(field, instance)
            for field in _tracked_fields(type(instance), update_fields)
        }
    )


def _remember_old_values(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if instance._state.adding or kwargs.get("raw"):
        instance._audit_old_values = None  # type: ignore[attr-defined]
        return
    fields = [field.attname for field in _tracked_fields(sender, kwargs.get("update_fields"))]
    old = sender._base_manager.filter(pk=instance.pk).values(*fields).first()
    instance._audit_old_values = json_normalise(old) if old is not None else None  # type: ignore[attr-defined]


def _record_save(
    sender: type[models.Model], instance: models.Model, created: bool, **kwargs: Any
) -> None:
    from . import services as audit

    if kwargs.get("raw"):
        return
    old = getattr(instance, "_audit_old_values", None)
    if created or old is None:
        changes = {name: [None, value] for name, value in _values(instance).items()}
        verb = "created"
    else:
        new = _values(instance, kwargs.get("update_fields"))
        changes = {
            name: [old.get(name), value] for name, value in new.items() if old.get(name) != value
        }
        verb = "updated"
        if not changes:
            return
    audit.record(action=f"{sender._meta.label_lower}.{verb}", target=instance, changes=changes)


def _record_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    from . import services as audit

    changes = {name: [value, None] for name, value in _values(instance).items()}
    audit.record(action=f"{sender._meta.label_lower}.deleted", target=instance, changes=changes)


def audit_register(model: type[models.Model], *, exclude: tuple[str, ...] = ()) -> None:
    """Record every create, update and delete of ``model`` (except the ``exclude`` fields)."""
    _registered[model] = exclude
    uid = f"audit:{model._meta.label_lower}"
    pre_save.connect(_remember_old_values, sender=model, dispatch_uid=uid)
    post_save.connect(_record_save, sender=model, dispatch_uid=uid)
    post_delete.connect(_record_delete, sender=model, dispatch_uid=uid)
