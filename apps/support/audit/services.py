"""Recording audit entries. Services call ``record`` inside their own transaction::

    from apps.support.audit import services as audit

    audit.record(action="payments.order.refunded", target=order, changes={"state": [old, new]})

Action codes are namespaced ``<module>.<object>.<verb>``. The entry commits or rolls back with
the change it records.
"""

from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from apps.support.common.http import client_ip
from apps.support.common.request_context import request_id_var, request_var
from apps.support.common.statements import Insert
from apps.support.security.roles import role_names

from .chain import entry_hash, json_normalise, without_nul
from .masking import mask
from .models import AuditChainHead, AuditEvent

SYSTEM = "system"
ANONYMOUS = "anonymous"


def _actor_fields(actor: Any) -> tuple[int | None, str, list[str]]:
    if actor is None:
        request = request_var.get()
        if request is None:
            return None, SYSTEM, []
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None, ANONYMOUS, []
        actor = user
    if actor == SYSTEM:
        return None, SYSTEM, []
    roles = sorted(role_names(actor))  # read once per user object
    if actor.is_superuser and "superuser" not in roles:
        roles.append("superuser")
    return actor.pk, actor.email, roles


def _request_fields() -> dict[str, Any]:
    request = request_var.get()
    if request is None:
        return {"request_id": request_id_var.get(), "ip_address": None, "user_agent": ""}
    return {
        "request_id": request_id_var.get(),
        "ip_address": client_ip(request) or None,
        "user_agent": without_nul(request.META.get("HTTP_USER_AGENT", "")[:512]),
    }


def record(
    *,
    action: str,
    actor: Any = None,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    changes: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one entry to the audit trail.

    - ``actor``: the user who acted; by default the authenticated user of the current request
      (``"anonymous"`` when nobody is signed in), or ``"system"`` outside a request (tasks,
      commands). Pass ``audit.SYSTEM`` explicitly for what the system does on its own.
    - ``target``: the object acted on (or ``target_type`` / ``target_id`` for one without a
      model instance at hand).
    - ``changes``: ``{field: [old, new]}``; ``metadata``: any other context. Values under
      sensitive keys (settings.AUDIT_MASKED_KEYS) are masked before they are stored.
    """
    if target is not None:
        target_type = target._meta.label_lower
        target_id = target.pk
    actor_id, actor_label, actor_roles = _actor_fields(actor)
    fields: dict[str, Any] = {
        "occurred_at": timezone.now(),
        "actor_id": actor_id,
        "actor_label": actor_label,
        "actor_roles": actor_roles,
        "action": action,
        "target_type": target_type,
        "target_id": "" if target_id is None else without_nul(str(target_id))[:64],
        "changes": json_normalise(mask(changes or {})),
        "metadata": json_normalise(mask(metadata or {})),
        **_request_fields(),
    }
    # No savepoint: a failure here fails the caller's transaction anyway.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        # Locked late, once, for the shortest time: the chain has one head.
        cursor.execute(_HEAD_LOCK_SQL.get(connection.vendor, _HEAD_LOCK_SQL["*"]))
        row = cursor.fetchone()
        if row is None:
            raise AuditChainHead.DoesNotExist("The audit chain has no head (migrate).")
        fields["sequence"] = row[0] + 1
        fields["previous_hash"] = row[1]
        fields["hash"] = entry_hash(fields)
        moved = [fields["sequence"], fields["hash"]]
        if connection.vendor == "postgresql":
            # The head moves in the entry's own statement: one round trip fewer.
            return _APPEND(fields, prefix=(_HEAD_MOVED_WITH, moved))
        event = _APPEND(fields)
        cursor.execute(_HEAD_MOVE_SQL, moved)
    return event


# The head's statements and the entry's run on every audited write: written once here, and
# the entry's INSERT compiled once by the ORM (``Insert``), rather than built and compiled by
# the ORM each time (docs/adr/0048, docs/adr/0054).
_HEAD_LOCK_SQL = {
    "sqlite": "SELECT sequence, last_hash FROM audit_auditchainhead WHERE id = 1",
    "*": "SELECT sequence, last_hash FROM audit_auditchainhead WHERE id = 1 FOR UPDATE",
}
_HEAD_MOVE_SQL = "UPDATE audit_auditchainhead SET sequence = %s, last_hash = %s WHERE id = 1"
_HEAD_MOVED_WITH = f"WITH moved AS ({_HEAD_MOVE_SQL}) "
_APPEND = Insert(AuditEvent)
