"""The back office's first page (``/admin/``): what each role needs first, above the list of
models.

Each panel is shown to the roles that may see its data by the API's permission matrix
(``apps.support.security.roles``; administrators and superusers see every panel), reads its
numbers through the modules' selectors (a fixed number of queries, whatever the rows), and
links to the back office's list it summarises when the signed-in user may open that list.
The charts are drawn in the page from the numbers here (``json_script``), which the page also
shows as tables.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.admin import AdminSite
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from apps.business.donations import selectors as donations
from apps.business.donations.models import Donation
from apps.business.education import selectors as education
from apps.business.education.models import Session, SessionStatus
from apps.business.finance import selectors as finance
from apps.business.infrastructure import selectors as infrastructure
from apps.business.infrastructure.models import WaterAlert
from apps.business.payments import selectors as payments
from apps.business.payments.models import Order, OrderStatus, Refund, WebhookEvent, WebhookStatus
from apps.business.tickets import selectors as tickets
from apps.business.tickets.models import TimeSlot
from apps.business.wildlife import selectors as wildlife
from apps.business.wildlife.models import Animal
from apps.support.common.reports import ZERO, Period, Report
from apps.support.security.roles import (
    DONATION_STAFF,
    EDUCATION_STAFF,
    REPORT_STAFF,
    TICKET_STAFF,
    Role,
    has_any_role,
)

# How many rows a panel lists (its count and its link cover all of them).
PANEL_ROWS = 10
# The days of the sales and donations charts, today included.
CHART_DAYS = 30
# Who looks after the animals' health: quarantine, treatment, weights.
ANIMAL_CARE_STAFF = (Role.CURATOR, Role.VETERINARIAN)
WATER_STAFF = (Role.AQUARIST, Role.CURATOR, Role.VETERINARIAN)
PAYMENT_STAFF = (Role.FINANCE,)


@dataclass
class Panel:
    """One panel: its heading, the template that draws it, and what that template reads."""

    key: str
    title: Any
    template: str
    data: dict[str, Any] = field(default_factory=dict)
    link: str | None = None
    link_text: Any = ""


class Dashboard:
    """The panels of one request, built by ``panels()``."""

    def __init__(self, request: HttpRequest, site: AdminSite) -> None:
        self.request = request
        self.site = site
        self.now = timezone.now()
        self.today = timezone.localdate(self.now)

    def changelist(self, model: type[Model], **query: Any) -> str | None:
        """The back office's list of ``model`` filtered by ``query``; None when the user may
        not open it."""
        model_admin = self.site._registry.get(model)
        if model_admin is None or not model_admin.has_view_permission(self.request):
            return None
        meta = model._meta
        url = reverse(f"{self.site.name}:{meta.app_label}_{meta.model_name}_changelist")
        return f"{url}?{urlencode(query)}" if query else url

    def panels(self) -> list[Panel]:
        user = self.request.user
        found = []
        if has_any_role(user, TICKET_STAFF):
            found.append(self.slots())
        if has_any_role(user, REPORT_STAFF):
            found.append(self.sales())
        if has_any_role(user, DONATION_STAFF):
            found.append(self.donations())
        if has_any_role(user, WATER_STAFF):
            found.append(self.water_alerts())
        if has_any_role(user, ANIMAL_CARE_STAFF):
            found.extend((self.animals_in_care(), self.weights_overdue()))
        if has_any_role(user, EDUCATION_STAFF):
            found.append(self.sessions())
        if has_any_role(user, PAYMENT_STAFF):
            found.extend((self.webhook_events(), self.refunds()))
        return found

    def slots(self) -> Panel:
        return Panel(
            key="slots",
            title=_("Today's time slots"),
            template="admin/back_office/panels/slots.html",
            data={"slots": list(tickets.slots_of_day(day=self.today))},
            link=self.changelist(TimeSlot, date=self.today.isoformat()),
            link_text=_("All slots of today"),
        )

    def _period(self) -> Period:
        return Period(self.today - timedelta(days=CHART_DAYS - 1), self.today)

    def sales(self) -> Panel:
        period = self._period()
        return chart_panel(
            "sales",
            _("Sales of the last 30 days"),
            finance.sales_report(period=period, group_by="day"),
            measure=("gross", _("Sales (paid orders)")),
            link=self.changelist(
                Order, status__exact=OrderStatus.PAID, paid_at__gte=period.start.isoformat()
            ),
            link_text=_("Orders paid in these days"),
        )

    def donations(self) -> Panel:
        period = self._period()
        return chart_panel(
            "donations",
            _("Donations of the last 30 days"),
            donations.donations_report(period=period, group_by="day"),
            measure=("given", _("Donations")),
            link=self.changelist(Donation, paid_at__gte=period.start.isoformat()),
            link_text=_("Donations paid in these days"),
        )

    def water_alerts(self) -> Panel:
        panel = listed(
            "water_alerts",
            _("Open water-quality alerts"),
            infrastructure.water_alerts_open(),
            link=self.changelist(WaterAlert, closed_at__isnull="True"),
            link_text=_("All open alerts"),
        )
        panel.data["rows"] = [
            {
                "alert": alert,
                "hours_open": int((self.now - alert.opened_at).total_seconds() // 3600),
            }
            for alert in panel.data["rows"]
        ]
        return panel

    def _animals(self, key: str, title: Any, animals: QuerySet[Animal]) -> Panel:
        ids = list(animals.values_list("id", flat=True))
        return listed(
            key,
            title,
            animals if ids else animals.none(),
            link=self.changelist(Animal, id__in=",".join(map(str, ids))) if ids else None,
            link_text=_("These animals in the list"),
            count=len(ids),
            template="animals",
            overdue_days=weight_overdue_days(),
        )

    def animals_in_care(self) -> Panel:
        return self._animals(
            "animals_in_care",
            _("Animals in quarantine or in treatment"),
            wildlife.animals_in_care(),
        )

    def weights_overdue(self) -> Panel:
        since = self.now - timedelta(days=weight_overdue_days())
        return self._animals(
            "weights_overdue", _("Weights overdue"), wildlife.animals_weight_overdue(since=since)
        )

    def sessions(self) -> Panel:
        return listed(
            "sessions",
            _("Upcoming education sessions"),
            education.sessions_upcoming(now=self.now),
            link=self.changelist(
                Session,
                status__exact=SessionStatus.SCHEDULED,
                starts_at__gte=self.now.isoformat(),
            ),
            link_text=_("All upcoming sessions"),
        )

    def webhook_events(self) -> Panel:
        return listed(
            "webhook_events",
            _("Failed webhook events"),
            payments.webhook_events_failed(),
            link=self.changelist(WebhookEvent, status__exact=WebhookStatus.FAILED),
            link_text=_("All failed events"),
        )

    def refunds(self) -> Panel:
        return listed(
            "refunds",
            _("Refunds waiting or failed"),
            payments.refunds_waiting(),
            link=self.changelist(Refund, status__in=",".join(payments.REFUNDS_WAITING)),
            link_text=_("All refunds waiting or failed"),
        )


def listed(
    key: str,
    title: Any,
    rows: QuerySet[Any],
    *,
    link: str | None,
    link_text: Any,
    count: int | None = None,
    template: str = "",
    **data: Any,
) -> Panel:
    """A panel listing the first ``PANEL_ROWS`` of ``rows`` and how many there are (two
    queries, or one when the caller knows the count), drawn by ``panels/<template>.html``
    (the key's by default)."""
    shown = list(rows[:PANEL_ROWS])
    data = {"rows": shown, "count": rows.count() if count is None else count, **data}
    path = f"admin/back_office/panels/{template or key}.html"
    return Panel(key, title, path, data, link, link_text)


def weight_overdue_days() -> int:
    """Days without a weight after which an animal's weight is overdue (setting
    ``BACK_OFFICE_WEIGHT_OVERDUE_DAYS``)."""
    return int(settings.BACK_OFFICE_WEIGHT_OVERDUE_DAYS)


def money(amount: Decimal) -> str:
    """An amount with its two decimals, as every database gives it (SQLite sums drop them)."""
    return str(Decimal(amount).quantize(ZERO))


def chart_panel(
    key: str,
    title: Any,
    report: Report,
    *,
    measure: tuple[str, Any],
    link: str | None,
    link_text: Any,
) -> Panel:
    """A chart of one measure of a report per day: what the page's script draws (``json_script``)
    and its table shows."""
    name, label = measure
    days = [(row["key"], money(row[name])) for row in report.rows]
    data = {
        "element_id": f"dashboard-{key}-data",
        "json": {
            "label": str(label),
            "currency": report.currency,
            "labels": [day for day, _value in days],
            "values": [value for _day, value in days],
        },
        "days": days,
        "currency": report.currency,
        "total": money(report.totals[name]),
        "label": label,
    }
    return Panel(key, title, "admin/back_office/panels/chart.html", data, link, link_text)


def panels(request: HttpRequest, site: AdminSite) -> list[Panel]:
    """The panels the signed-in user sees first, in order."""
    return Dashboard(request, site).panels()
