"""The day's reconciliation as CSV for finance and auditors: the totals of each gateway, its
differences and matched items, then the counter's totals (no gateway states them)."""

from collections.abc import Iterator

from apps.support.common.csv_export import csv_lines

from .reconciliation import Item, Reconciliation, Totals

COLUMNS = (
    "gateway",
    "result",
    "kind",
    "order",
    "gateway_reference",
    "capture_reference",
    "refund_reference",
    "count",
    "gateway_amount",
    "park_amount",
    "currency",
    "gateway_status",
    "park_status",
    "detail",
)


def _item_row(gateway: str, item: Item) -> list[object]:
    return [
        gateway,
        item.code or "matched",
        item.kind,
        item.order,
        item.gateway_reference,
        item.capture_reference,
        item.refund_reference,
        1 if item.kind else "",
        item.gateway_amount,
        item.park_amount,
        item.currency,
        item.gateway_status,
        item.park_status,
        item.detail,
    ]


def _total_row(
    gateway: str, result: str, kind: str, totals: Totals, currency: str, *, at_gateway: bool
) -> list[object]:
    amounts = [totals.amount, ""] if at_gateway else ["", totals.amount]
    return [gateway, result, kind, "", "", "", "", totals.count, *amounts, currency, "", "", ""]


def _rows(report: Reconciliation) -> Iterator[list[object]]:
    currency = report.currency
    for gateway in report.gateways:
        name = gateway.gateway
        if gateway.statement_status == "ok":
            yield _total_row(
                name,
                "gateway_total",
                "payment",
                gateway.gateway_payments,
                currency,
                at_gateway=True,
            )
            yield _total_row(
                name, "gateway_total", "refund", gateway.gateway_refunds, currency, at_gateway=True
            )
        yield _total_row(
            name, "park_total", "payment", gateway.park_payments, currency, at_gateway=False
        )
        yield _total_row(
            name, "park_total", "refund", gateway.park_refunds, currency, at_gateway=False
        )
        for item in gateway.differences:
            yield _item_row(name, item)
        for item in gateway.matched:
            yield _item_row(name, item)
    for counter in report.counter:
        yield _total_row(
            counter.method, "park_only", "payment", counter.payments, currency, at_gateway=False
        )
        yield _total_row(
            counter.method, "park_only", "refund", counter.refunds, currency, at_gateway=False
        )


def reconciliation_csv(report: Reconciliation) -> Iterator[str]:
    return csv_lines(COLUMNS, _rows(report))
