"""Folders: the tree and who sees each one."""

import logging
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from apps.support.audit import services as audit
from apps.support.common.errors import ConflictError, ServiceError
from apps.support.common.locking import lock_rows

from .. import errors, selectors
from ..models import (
    Folder,
)

logger = logging.getLogger(__name__)

FOLDER_FIELDS = ("name", "parent", "description", "is_public", "roles")

# --- Folders ------------------------------------------------------------------------------


def _role_names(folder: Folder, data: Mapping[str, Any] | None = None) -> set[str]:
    if data is not None and "roles" in data:
        return {group.name for group in data["roles"]}
    return set(folder.roles.values_list("name", flat=True))


def _check_folder(folder: Folder, roles: set[str], data: Mapping[str, Any]) -> None:
    """A folder is never seen by more people than its parent, nor by fewer than its
    sub-folders; it never becomes its own ancestor."""
    parent = data.get("parent", folder.parent)
    is_public = data.get("is_public", folder.is_public)
    if parent is not None:
        ancestor: Folder | None = parent
        while ancestor is not None:
            if folder.pk is not None and ancestor.pk == folder.pk:
                raise ServiceError(
                    _("A folder cannot go inside itself or one of its sub-folders."),
                    code=errors.FOLDER_CYCLE,
                    field="parent",
                )
            ancestor = ancestor.parent
        if not parent.is_public and (is_public or not roles <= _role_names(parent)):
            raise ServiceError(
                _(
                    "A sub-folder is seen by no more people than its parent: it may only be "
                    "public inside a public folder, and only have roles of its parent."
                ),
                code=errors.FOLDER_WIDER_THAN_PARENT,
                field="roles",
            )
    if folder.pk is not None and not is_public:
        for child in folder.children.prefetch_related("roles"):
            if child.is_public or not {group.name for group in child.roles.all()} <= roles:
                raise ServiceError(
                    _("The sub-folder %(child)s is seen by more people than that.")
                    % {"child": child.name},
                    code=errors.FOLDER_NARROWER_THAN_CHILDREN,
                    field="roles",
                )
    name = data.get("name", folder.name)
    clash = Folder.objects.filter(parent=parent, name=name).exclude(pk=folder.pk)
    if clash.exists():
        raise ServiceError(
            _("There is already a folder named %(name)s there.") % {"name": name},
            code=errors.FOLDER_NAME_TAKEN,
            field="name",
        )


def _folder_snapshot(folder: Folder) -> dict[str, Any]:
    return {
        "name": folder.name,
        "parent": folder.parent_id,
        "is_public": folder.is_public,
        "roles": sorted(folder.roles.values_list("name", flat=True)),
    }


def folder_create(*, actor: Any, data: Mapping[str, Any]) -> Folder:
    folder = Folder()
    roles = {group.name for group in data.get("roles", [])}
    _check_folder(folder, roles, data)
    with transaction.atomic():
        folder = Folder.objects.create(
            name=data["name"],
            parent=data.get("parent"),
            description=data.get("description", ""),
            is_public=data.get("is_public", False),
        )
        folder.roles.set(data.get("roles", []))
        audit.record(
            action="documents.folder.created",
            actor=actor,
            target=folder,
            changes={key: [None, value] for key, value in _folder_snapshot(folder).items()},
        )
    return folder


def folder_update(*, actor: Any, folder: Folder, data: Mapping[str, Any]) -> Folder:
    with transaction.atomic():
        folder = lock_rows(Folder.objects.filter(pk=folder.pk))[0]
        _check_folder(folder, _role_names(folder, data), data)
        before = _folder_snapshot(folder)
        for name in ("name", "parent", "description", "is_public"):
            if name in data:
                setattr(folder, name, data[name])
        folder.save()
        if "roles" in data:
            folder.roles.set(data["roles"])
        after = _folder_snapshot(folder)
        changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
        if changes:
            audit.record(
                action="documents.folder.updated", actor=actor, target=folder, changes=changes
            )
    return folder


def folder_delete(*, actor: Any, folder: Folder) -> None:
    """Only an empty folder goes (no sub-folders, no documents, none in the trash)."""
    with transaction.atomic():
        folder = lock_rows(Folder.objects.filter(pk=folder.pk))[0]
        if folder.children.exists() or folder.documents.exists():
            raise ConflictError(
                _("Only an empty folder can be deleted: move or delete what it holds first."),
                code=errors.FOLDER_NOT_EMPTY,
            )
        audit.record(
            action="documents.folder.deleted",
            actor=actor,
            target=folder,
            changes={key: [value, None] for key, value in _folder_snapshot(folder).items()},
        )
        folder.delete()


def check_folder_visible(actor: Any, folder: Folder) -> None:
    if not selectors.visible_folders(actor).filter(pk=folder.pk).exists():
        raise ServiceError(
            _("There is no such folder."), code=errors.FOLDER_NOT_VISIBLE, field="folder"
        )
