"""Gap-free numbers under concurrency: 50 paid orders invoiced at once on PostgreSQL.

Twenty issuers (twenty connections: PostgreSQL allows 100 and the machine is shared), in two
processes, start together at the harness's barrier (tests/race.py) and share the 50 orders;
each issues its orders' invoices through the real service, retrying ``busy`` as a task does.
The numbers must be exactly 1..50: no gap, no number twice.

The scenario runs twice: with the service as it is, and as a control with the counter's row
lock replaced by a plain read. The control must show the bug the lock prevents (two issuers
taking the same number, which the unique constraint then refuses), otherwise the harness would
prove nothing. ``reads_meet`` makes that interleaving certain, not lucky: after reading the
counter an issuer waits until another issuer has read it too. With the lock nobody else can
read it before the first one commits: it goes on as soon as another issuer is seen waiting
for the counter's lock.
"""

import time

import pytest
from django.db import IntegrityError, connection
from django.utils import timezone

from apps.business.invoicing import services
from apps.business.invoicing.models import Invoice, InvoiceCounter
from tests.factories import TicketTypeFactory, TimeSlotFactory, UserFactory
from tests.invoicing.helpers import buy, unannounced
from tests.race import RETRY_FOR_SECONDS, is_busy, meet_after, race

pytestmark = [
    pytest.mark.skipif(connection.vendor == "sqlite", reason="row locks need PostgreSQL or MySQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ORDERS = 50
ISSUERS = 20  # connections at once
DUPLICATE = "duplicate"


@pytest.fixture
def reads_meet(monkeypatch):
    """After reading the counter, wait for a rival reader (see the module's docstring), once
    armed: nothing is issued before the race."""
    return meet_after(monkeypatch, services, "_lock_counter", table="invoicing_invoicecounter")


def without_the_counter_lock(monkeypatch):
    lock_rows = services.lock_rows

    def lock_rows_but_the_counter(queryset):
        if queryset.model is InvoiceCounter:
            return list(queryset.order_by("pk"))  # a plain read: the bug under test
        return lock_rows(queryset)

    monkeypatch.setattr(services, "lock_rows", lock_rows_but_the_counter)


def issue(order_id: int) -> str:
    """The invoice's number, retrying ``busy`` as the task does; ``duplicate`` when the
    database refused the number as taken."""
    give_up_at = time.monotonic() + RETRY_FOR_SECONDS
    while True:
        try:
            return services.invoice_issue(order_id=order_id).number
        except IntegrityError as error:
            if "duplicate key" not in str(error) and "Duplicate entry" not in str(error):
                raise
            return DUPLICATE
        except Exception as error:  # busy: ConflictError, or a lock wait the database gave up
            if not is_busy(error) or time.monotonic() > give_up_at:
                raise
            time.sleep(1)  # as Retry-After says: a pause before trying again, not a rendezvous


def issuer(order_ids: list[int]):
    def action(_client):
        return ("issue", len(order_ids), " ".join(issue(order_id) for order_id in order_ids))

    return action


def paid_orders(count: int) -> list[int]:
    slot, ticket_type = TimeSlotFactory(capacity=count), TicketTypeFactory()
    visitors = [UserFactory() for _ in range(5)]
    with unannounced():  # nothing issued while paying: the race issues them all
        return [buy(visitors[index % 5], (slot, ticket_type, 1)).pk for index in range(count)]


def race_issuers(arm_reads) -> tuple[list[str], int]:
    """Issue the invoices of 50 orders paid beforehand; the numbers given, and how many were
    refused as duplicates."""
    orders = paid_orders(ORDERS)
    # The year's counter exists (any day but the year's first document): the race is for it.
    InvoiceCounter.objects.create(series="PM", year=timezone.localdate().year)
    shares = [orders[index::ISSUERS] for index in range(ISSUERS)]
    arm_reads()
    results = race([issuer(share) for share in shares], processes=2)
    assert sorted(count for _kind, count, _numbers in results) == sorted(map(len, shares)), results
    answers = [answer for _kind, _count, numbers in results for answer in numbers.split()]
    assert len(answers) == ORDERS
    numbers = [answer for answer in answers if answer != DUPLICATE]
    return numbers, answers.count(DUPLICATE)


def test_50_orders_invoiced_at_once_are_numbered_1_to_50(reads_meet):
    numbers, duplicates = race_issuers(reads_meet)
    year = timezone.localdate().year
    expected = [f"PM-{year}-{sequence:06d}" for sequence in range(1, ORDERS + 1)]
    assert (sorted(numbers), duplicates) == (expected, 0)
    assert sorted(Invoice.objects.values_list("sequence", flat=True)) == list(range(1, ORDERS + 1))
    assert Invoice.objects.values("order").distinct().count() == ORDERS
    assert InvoiceCounter.objects.get(series="PM", year=year).last == ORDERS


def test_control_without_the_counter_lock_two_issuers_take_one_number(reads_meet, monkeypatch):
    without_the_counter_lock(monkeypatch)
    numbers, duplicates = race_issuers(reads_meet)
    # The bug the lock prevents: issuers read the same last number and took the same next one.
    assert duplicates > 0
    assert len(numbers) == ORDERS - duplicates
    assert Invoice.objects.count() == len(numbers) < ORDERS


def test_the_first_documents_of_a_year_create_its_counter_once():
    """No counter yet: twenty issuers create it at once (``INSERT … ON CONFLICT DO NOTHING``
    then the row lock), and number 1..20."""
    orders = paid_orders(ISSUERS)
    results = race([issuer([order_id]) for order_id in orders], processes=2)
    year = timezone.localdate().year
    numbers = sorted(number for _kind, _count, number in results)
    assert numbers == [f"PM-{year}-{sequence:06d}" for sequence in range(1, ISSUERS + 1)], results
    assert list(InvoiceCounter.objects.values_list("series", "year", "last")) == [
        ("PM", year, ISSUERS)
    ]
