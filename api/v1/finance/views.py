"""/api/v1/payments/reports/: the finance reports (sales, refunds), for finance and auditors,
as JSON for charts or as CSV. Read-only: each calls one selector of apps.business.finance."""

from api.reports import ReportView, report_schema
from apps.business.finance import selectors

from .serializers import RefundsQuery, RefundsReportSerializer, SalesQuery, SalesReportSerializer


class SalesReportView(ReportView):
    """Sales of the period: the lines of the orders paid, on the local day they were paid
    (refunds are not subtracted: see the refunds report), per day (every day, zeros
    included), ticket type (other kinds of line by their kind), channel or gateway (of the
    payment that paid the order)."""

    name = "sales"
    query_class = SalesQuery
    serializer_class = SalesReportSerializer
    csv_columns = ("key", "label", "orders", "items", "gross")
    selector = staticmethod(selectors.sales_report)


class RefundsReportView(ReportView):
    """Money given back in the period: refunds the gateway confirmed, on the local day it
    confirmed them, per day (every day, zeros included) or gateway."""

    name = "refunds"
    query_class = RefundsQuery
    serializer_class = RefundsReportSerializer
    csv_columns = ("key", "label", "refunds", "orders", "amount")
    selector = staticmethod(selectors.refunds_report)


report_schema(operation_id="payments_reports_sales", query=SalesQuery, view=SalesReportView)
report_schema(operation_id="payments_reports_refunds", query=RefundsQuery, view=RefundsReportView)
