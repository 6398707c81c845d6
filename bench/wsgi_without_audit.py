"""The service as deployed, less its audit trail: ``apps.support.audit.services.record`` is
replaced by a no-op before the application loads. For bench/tickets.py only, which measures the
same writes on this server and on the real one (config.wsgi) to show what the audit chain
costs.

Every caller reaches it as ``audit.record(...)`` through the module (``from
apps.support.audit import services as audit``), so replacing the module's attribute replaces it
for all of them; and none uses what it returns (``grep -rn "audit.record(" apps api config``:
each call is a statement of its own), so the no-op returns ``None``. Nothing else changes: the
same settings, middleware, services and transactions; no row is written to
``audit_auditevent`` and the chain head is never locked.
"""

import os
from typing import Any

import django
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
django.setup(set_prefix=False)

from apps.support.audit import services  # noqa: E402  (a model module: after setup)


def record_nothing(**_fields: Any) -> None:
    """``audit.record`` without the record."""
    return None


services.record = record_nothing  # type: ignore[assignment]

application = get_wsgi_application()
