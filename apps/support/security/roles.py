"""Staff roles: Django groups that carry model permissions.

The groups are created by migration ``0002_roles``; each module's own migrations grant its
models' permissions to the roles that work with them (``grant_role_permissions``). A visitor
has no role. Administrators (the ``administrator`` role, or a superuser) may do everything.
"""

from collections.abc import Iterable
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", _("Administrator")
    CURATOR = "curator", _("Curator")
    VETERINARIAN = "veterinarian", _("Veterinarian")
    AQUARIST = "aquarist", _("Aquarist")
    EDUCATOR = "educator", _("Educator")
    CONTENT_EDITOR = "content_editor", _("Content editor")
    TICKET_OFFICE = "ticket_office", _("Ticket office")
    GATE_STAFF = "gate_staff", _("Gate staff")
    FINANCE = "finance", _("Finance")
    AUDITOR = "auditor", _("Auditor")


# Who works with what, defined once (docs/api/permissions.md says it in words). Views declare
# them in their permission classes; services decide staff powers from the actor with them.
COLLECTION_STAFF = (Role.CURATOR, Role.VETERINARIAN, Role.AQUARIST)  # the animals, the water
ORDER_STAFF = (Role.TICKET_OFFICE, Role.FINANCE)  # see and look after every visitor's order
TICKET_STAFF = (Role.TICKET_OFFICE, Role.GATE_STAFF, Role.FINANCE)  # every ticket; attendance
# Sell and take money at the counter; cancel a paid order past the visitors' deadline.
COUNTER_STAFF = (Role.TICKET_OFFICE,)
INVOICE_STAFF = (Role.FINANCE, Role.AUDITOR)  # every invoice and credit note, and their export
REPORT_STAFF = (Role.FINANCE, Role.AUDITOR)  # the finance reports (sales, refunds), JSON and CSV
EDUCATION_STAFF = (Role.EDUCATOR,)  # sessions, every enrollment and participant list
PROGRAM_EDITORS = (Role.EDUCATOR, Role.CONTENT_EDITOR)  # write the programs visitors read
# See every enrollment (not the participants' needs): the department and finance.
ENROLLMENT_STAFF = (Role.EDUCATOR, Role.FINANCE)
# Write fundraising campaigns (totals excepted: those come from paid gifts).
CAMPAIGN_EDITORS = (Role.FINANCE, Role.CONTENT_EDITOR)
DONATION_STAFF = (Role.FINANCE, Role.AUDITOR)  # every donation, donors' names and emails
# Write, publish and preview exhibitions (the editors' screen at /cms/ included).
EXHIBITION_EDITORS = (Role.CONTENT_EDITOR, Role.CURATOR)
# Upload documents and new versions, restore them, trash them and share them, in the folders
# their roles see (folders themselves are the administrators').
DOCUMENT_EDITORS = (
    Role.CURATOR,
    Role.VETERINARIAN,
    Role.AQUARIST,
    Role.EDUCATOR,
    Role.CONTENT_EDITOR,
    Role.FINANCE,
)
# Read who downloaded a document and its share links: its editors and auditors.
DOCUMENT_LOG_READERS = (*DOCUMENT_EDITORS, Role.AUDITOR)

ROLE_DESCRIPTIONS: dict[str, str] = {
    Role.ADMINISTRATOR: "Manages users, their roles and every module.",
    Role.CURATOR: "Keeps species and animal records.",
    Role.VETERINARIAN: "Keeps medical records.",
    Role.AQUARIST: "Records water quality and its target ranges.",
    Role.EDUCATOR: "Runs education programs, sessions and enrollments.",
    Role.CONTENT_EDITOR: "Writes exhibition content for the public.",
    Role.TICKET_OFFICE: "Sells tickets at the counter.",
    Role.GATE_STAFF: "Checks visitors in at the gate.",
    Role.FINANCE: "Reconciles payments, refunds, donations and invoices.",
    Role.AUDITOR: "Reads the audit trail; changes nothing.",
}


def role_names(user: Any) -> frozenset[str]:
    """The user's roles, read once per user object (a request's user is read many times)."""
    if not user or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_role_names", None)
    if cached is None:
        if "groups" in getattr(user, "_prefetched_objects_cache", {}):
            cached = frozenset(group.name for group in user.groups.all())
        else:
            cached = frozenset(user.groups.values_list("name", flat=True))
        user._role_names = cached
    return cached


def is_administrator(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active) and (
        user.is_superuser or Role.ADMINISTRATOR in role_names(user)
    )


def has_any_role(user: Any, roles: Iterable[str]) -> bool:
    """True for an administrator, or a user holding one of ``roles``."""
    if is_administrator(user):
        return True
    return bool(role_names(user) & set(roles))


def grant_role_permissions(apps: Any, role: str, permissions: Iterable[str]) -> None:
    """For data migrations: give ``role`` the listed ``app_label.codename`` permissions.

    Creates the permissions first when their app's post-migrate hook has not run yet (a fresh
    database migrates every app before any hook runs).
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    group, _ = group_model.objects.get_or_create(name=role)
    for permission in permissions:
        app_label, codename = permission.split(".")
        group.permissions.add(
            permission_model.objects.get(content_type__app_label=app_label, codename=codename)
        )
