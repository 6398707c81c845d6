"""Daily sales totals of closed days: what is stored, when, and that the sales report reading
them answers exactly what it computes from the records alone."""

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.business.finance import selectors, services, tasks
from apps.business.finance.models import SalesDay, SalesDayTotal
from apps.business.payments import services as payments
from apps.business.payments.models import Order, OrderLine, Payment
from apps.support.common.reports import Period
from tests.factories import TicketTypeFactory, UserFactory
from tests.helpers import client_for

from .conftest import MARCH, PARK, REFUNDS, SALES, completed_at, local

pytestmark = pytest.mark.django_db

MARCH_DAYS = [date(2026, 3, day) for day in range(1, 5)]


def stored(day):
    return sorted(
        (t.kind, t.ticket_type, t.channel, t.method, t.orders, t.orders_once, t.items, t.gross)
        for t in SalesDayTotal.objects.filter(sales_day__day=day)
    )


def test_a_day_is_stored_per_kind_ticket_type_channel_and_gateway(march):
    assert services.sales_days_summarize(days=MARCH_DAYS) == MARCH_DAYS
    adult, child = str(march.adult.pk), str(march.child.pk)
    # B (online, sandbox): 1 adult then 2 children, counted once in the row of its first
    # line; C (counter, cash): 3 children.
    assert stored(date(2026, 3, 3)) == [
        ("ticket", adult, "online", "sandbox", 1, 1, 1, Decimal("2900.00")),
        ("ticket", child, "counter", "cash", 1, 1, 3, Decimal("4350.00")),
        ("ticket", child, "online", "sandbox", 1, 0, 2, Decimal("2900.00")),
    ]
    # D, made by hand: no payment paid it (unknown); a donation then an enrollment.
    assert ("donation", "", "online", "unknown", 1, 1, 1, Decimal("5000.00")) in stored(
        date(2026, 3, 2)
    )
    # The 4th sold nothing: summarized, without totals.
    assert SalesDay.objects.filter(day=date(2026, 3, 4), currency="CRC").exists()
    assert stored(date(2026, 3, 4)) == []


@pytest.mark.parametrize("group_by", ["day", "ticket_type", "channel", "gateway"])
@pytest.mark.parametrize("summarized", [[], MARCH_DAYS, MARCH_DAYS[1:3], MARCH_DAYS[::3]])
def test_the_report_is_the_same_whatever_was_summarized(march, group_by, summarized):
    live = client_for(march.finance).get(SALES, {**MARCH, "group_by": group_by}).json()
    services.sales_days_summarize(days=summarized)
    assert SalesDay.objects.count() == len(summarized)
    assert client_for(march.finance).get(SALES, {**MARCH, "group_by": group_by}).json() == live


def random_sales(seed, days, orders_per_day):
    """Orders of several days, placed by hand at random moments: 1-3 lines each among two
    ticket types (a line of one of them without a ticket type now and then), enrollments and
    donations; online or at the counter; paid by one of the gateways, or by nobody (made by
    hand), or a second payment at another moment; some in another currency, some unpaid."""
    rng = random.Random(seed)
    user = UserFactory()
    types = [str(TicketTypeFactory(code=f"t{seed}{n}", display_order=n).pk) for n in (2, 1)]
    for day in days:
        for _ in range(orders_per_day):
            moment = datetime.combine(day, datetime.min.time(), tzinfo=PARK) + timedelta(
                seconds=rng.randrange(86400)
            )
            if rng.random() < 0.05:
                moment = moment.replace(hour=23, minute=59, second=59)
            channel = rng.choice(["online", "counter"])
            currency = "USD" if rng.random() < 0.05 else "CRC"
            paid = rng.random() > 0.05
            order = Order.objects.create(
                user=user,
                channel=channel,
                status="paid" if paid else "pending",
                currency=currency,
                total=Decimal(0),
                expires_at=moment + timedelta(minutes=15),
                paid_at=moment if paid else None,
                created_by=user,
            )
            for _line in range(rng.randint(1, 3)):
                kind = rng.choice(["ticket", "ticket", "ticket", "enrollment", "donation"])
                reference = {}
                if kind == "ticket" and rng.random() > 0.05:
                    reference = {"ticket_type": int(rng.choice(types))}
                quantity = rng.randint(1, 4)
                price = Decimal(rng.choice(["1450.00", "2900.00", "5000.00", "333.33"]))
                OrderLine.objects.create(
                    order=order,
                    kind=kind,
                    description=kind,
                    unit_price=price,
                    quantity=quantity,
                    total=price * quantity,
                    reference=reference,
                )
            if not paid or rng.random() < 0.1:
                continue  # made by hand: no payment (unknown gateway)
            methods = ["cash", "card_present"] if channel == "counter" else ["stripe", "paypal"]
            Payment.objects.create(
                order=order,
                method=rng.choice(methods),
                amount=Decimal(1),
                currency=currency,
                status="succeeded",
                succeeded_at=moment,
            )
            if rng.random() < 0.05:  # a second payment, refunded as unfulfillable: not a sale
                Payment.objects.create(
                    order=order,
                    method="sandbox",
                    amount=Decimal(1),
                    currency=currency,
                    status="refunded",
                    succeeded_at=moment + timedelta(seconds=5),
                )


@pytest.mark.parametrize("seed", [1, 2])
def test_random_sales_summarized_or_not_are_the_live_report(seed):
    days = [date(2026, 5, 1) + timedelta(days=n) for n in range(8)]
    random_sales(seed, days, orders_per_day=12)
    rng = random.Random(seed)
    services.sales_days_summarize(days=rng.sample(days, 4))
    services.sales_days_summarize(days=[date(2026, 4, 28)])  # no sales: summarized, empty
    assert 4 <= SalesDay.objects.count() <= 5
    periods = [
        Period(date(2026, 4, 27), date(2026, 5, 10)),
        Period(days[0], days[0]),
        Period(days[2], days[5]),
    ]
    for period in periods:
        for group_by in selectors.SALES_GROUPS:
            expected = selectors.sales_report_live(period=period, group_by=group_by)
            got = selectors.sales_report(period=period, group_by=group_by)
            assert got.rows == expected.rows, (period, group_by)
            assert got.totals == expected.totals, (period, group_by)
            assert got.totals["orders"] > 0


def test_a_day_over_ten_minutes_ago_is_not_summarized_yet(march, settings):
    settings.FINANCE_SUMMARY_LAG_MINUTES = 60
    end_of_the_4th = local("2026-03-05T00:00")
    ten_minutes_later = end_of_the_4th + timedelta(minutes=10)
    assert services.sales_days_summarize(days=MARCH_DAYS, now=ten_minutes_later) == (MARCH_DAYS[:3])
    assert not SalesDay.objects.filter(day=date(2026, 3, 4)).exists()
    an_hour_later = end_of_the_4th + timedelta(minutes=60)
    assert services.sales_days_summarize(days=MARCH_DAYS, now=an_hour_later) == MARCH_DAYS
    assert not services.sales_day_closed(timezone.localdate())


def test_a_summarized_day_stays_right_after_a_later_refund(march):
    services.sales_days_summarize(days=MARCH_DAYS)
    finance = client_for(march.finance)
    sales = {
        group_by: finance.get(SALES, {**MARCH, "group_by": group_by}).json()
        for group_by in selectors.SALES_GROUPS
    }
    refunded = finance.get(REFUNDS, MARCH).json()["totals"]
    assert refunded["amount"] == "4350.00"
    order = Order.objects.get(paid_at=local("2026-03-01T23:30"))
    refund = payments.refund_request(order=order, actor=march.finance)
    completed_at(refund, local("2026-03-04T10:00"))  # a summarized day too
    # Refunds are reported on the day the gateway confirmed them, never on the day of the sale:
    # the stored sales are still the sales.
    for group_by, body in sales.items():
        assert finance.get(SALES, {**MARCH, "group_by": group_by}).json() == body
        live = selectors.sales_report_live(
            period=Period(MARCH_DAYS[0], MARCH_DAYS[-1]), group_by=group_by
        )
        assert body["totals"]["orders"] == live.totals["orders"] == 5
    after = finance.get(REFUNDS, MARCH).json()["totals"]
    assert (after["refunds"], after["amount"]) == (
        refunded["refunds"] + 1,
        "10150.00",
    )  # 4350 + 5800


def test_the_command_summarizes_missing_days_and_rebuild_replaces_them(march, capsys):
    call_command("finance_summarize", "--from", "2026-03-01", "--to", "2026-03-04")
    assert "4 day(s) summarized from 2026-03-01 to 2026-03-04" in capsys.readouterr().out
    first = SalesDay.objects.get(day=date(2026, 3, 1))
    # A correction by hand (the records say otherwise now): only --rebuild reads them again.
    OrderLine.objects.filter(order__paid_at=local("2026-03-01T23:30")).update(total=1)
    call_command("finance_summarize", "--from", "2026-03-01", "--to", "2026-03-04")
    assert "0 day(s) summarized" in capsys.readouterr().out
    assert stored(date(2026, 3, 1))[0][-1] == Decimal("5800.00")
    call_command("finance_summarize", "--from", "2026-03-01", "--to", "2026-03-01", "--rebuild")
    assert "1 day(s) summarized" in capsys.readouterr().out
    assert stored(date(2026, 3, 1))[0][-1] == Decimal("1.00")
    assert SalesDay.objects.filter(day=date(2026, 3, 1)).get().pk != first.pk
    assert SalesDay.objects.count() == 4


@pytest.mark.parametrize(
    "arguments",
    [("--from", "2026-3-1"), ("--to", "yesterday"), ("--from", "2026-03-05", "--to", "2026-03-04")],
)
def test_the_command_refuses_days_it_cannot_read(arguments):
    with pytest.raises(CommandError):
        call_command("finance_summarize", *arguments)
    assert not SalesDay.objects.exists()


def test_the_command_leaves_out_days_not_over(capsys):
    today = timezone.localdate()
    call_command("finance_summarize", "--from", str(today), "--to", str(today))
    output = capsys.readouterr().out
    assert "0 day(s) summarized" in output
    assert "1 day(s) not over FINANCE_SUMMARY_LAG_MINUTES ago left out" in output


def test_the_job_summarizes_the_closed_days_of_the_last_week_not_summarized_yet():
    now = datetime(2026, 3, 10, 0, 30, tzinfo=PARK)  # the 9th ended 30 minutes ago
    done = services.sales_days_summarize_missing(days_back=7, now=now)
    assert done == [date(2026, 3, day) for day in range(3, 9)]
    later = now + timedelta(hours=1)
    assert services.sales_days_summarize_missing(days_back=7, now=later) == [date(2026, 3, 9)]
    assert tasks.summarize_sales_days.delay().get() >= 6  # the last week of today


def test_only_the_park_currency_is_summarized(march, settings):
    services.sales_days_summarize(days=MARCH_DAYS)
    settings.PAYMENTS_CURRENCY = "USD"
    assert selectors.sales_days_stored(Period(MARCH_DAYS[0], MARCH_DAYS[-1])) == (set(), [])
    assert selectors.sales_days_missing(MARCH_DAYS[0], MARCH_DAYS[-1]) == MARCH_DAYS


def test_summaries_are_read_only_in_the_back_office(march, back_office):
    services.sales_days_summarize(days=MARCH_DAYS)
    day = SalesDay.objects.get(day=date(2026, 3, 3))
    for url, count in (
        ("/admin/finance/salesday/?currency__exact=CRC", 4),
        ("/admin/finance/salesdaytotal/?channel__exact=counter&kind__exact=ticket", 1),
        ("/admin/finance/salesdaytotal/?method__exact=unknown", 2),
    ):
        response = back_office.get(url)
        assert response.status_code == 200, url
        assert response.context["cl"].result_count == count, url
    assert back_office.get(f"/admin/finance/salesday/{day.pk}/change/").status_code == 200
    for model in ("salesday", "salesdaytotal"):
        assert back_office.get(f"/admin/finance/{model}/add/").status_code == 403
    assert back_office.post(f"/admin/finance/salesday/{day.pk}/delete/").status_code == 403
