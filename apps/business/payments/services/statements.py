"""Gateway statements: what each gateway says it took and gave back on one of the park's days,
fetched outside any transaction and stored in one short transaction per gateway
(docs/adr/0031). Reconciliation (``selectors.reconciliation``) compares them with the park's
records.
"""

import logging
from datetime import date

from django.db import transaction
from django.utils import timezone

from apps.integrations.payments import (
    GatewayError,
    GatewayTransaction,
    enabled_gateways,
    get_gateway,
)
from apps.support.audit import services as audit
from apps.support.common.locking import ensure_outside_transaction
from apps.support.security.models import User

from ..models import GatewayStatement, GatewayStatementLine, StatementStatus
from ..reconciliation import local_day
from .common import from_minor_units

logger = logging.getLogger(__name__)


def statements_fetch(*, day: date, actor: User | None = None) -> list[GatewayStatement]:
    """Ask every enabled gateway for its statement of ``day`` and store it, replacing an earlier
    fetch of that day. A gateway that fails is recorded as failed (and logged); the others are
    stored all the same. No gateway is called inside a transaction."""
    ensure_outside_transaction("statements_fetch(), which talks to the gateways,")
    start, end = local_day(day)
    statements = []
    for name in enabled_gateways():
        gateway = get_gateway(name)
        if gateway is None:
            continue
        try:
            told, error = gateway.transactions(start=start, end=end), ""
        except GatewayError as failure:
            logger.warning("The %s statement of %s could not be fetched: %s", name, day, failure)
            told, error = [], str(failure)
        statements.append(
            _statement_store(gateway=name, day=day, told=told, error=error, actor=actor)
        )
    return statements


def _statement_store(
    *, gateway: str, day: date, told: list[GatewayTransaction], error: str, actor: User | None
) -> GatewayStatement:
    with transaction.atomic():
        statement, _created = GatewayStatement.objects.select_for_update().update_or_create(
            gateway=gateway,
            date=day,
            defaults={
                "status": StatementStatus.FAILED if error else StatementStatus.OK,
                "error": error[:2000],
                "fetched_at": timezone.now(),
            },
        )
        statement.lines.all().delete()
        GatewayStatementLine.objects.bulk_create(
            GatewayStatementLine(
                statement=statement,
                kind=line.kind,
                reference=line.reference,
                gateway_reference=line.gateway_reference,
                capture_reference=line.capture_reference,
                refund_reference=line.refund_reference,
                amount=from_minor_units(line.amount_minor, line.currency),
                currency=line.currency,
                status=line.status,
                occurred_at=line.occurred_at,
            )
            for line in _unique(told)
        )
        audit.record(
            action="payments.statement.fetched",
            actor=actor if actor is not None else audit.SYSTEM,
            target=statement,
            metadata={
                "gateway": gateway,
                "date": day.isoformat(),
                "status": statement.status,
                "lines": len(told),
                "error": error[:200],
            },
        )
    return statement


def _unique(told: list[GatewayTransaction]) -> list[GatewayTransaction]:
    """One line per (kind, reference): a gateway listing one twice (a page that moved while it
    was read) states it once."""
    seen: dict[tuple[str, str], GatewayTransaction] = {}
    for line in told:
        seen[(line.kind, line.reference)] = line
    return list(seen.values())
