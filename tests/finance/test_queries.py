"""A report is a fixed number of queries, however many orders and rows it covers."""

from datetime import date

import pytest

from apps.business.finance.services import sales_days_summarize
from apps.support.common.reports import Period
from tests.helpers import client_for

from .conftest import REFUNDS, SALES

pytestmark = pytest.mark.django_db

# The caller's token user with its roles (1), then the summarized days with their stored totals
# (1), then the rows of the days not summarized (1); by ticket type also their totals (an
# order of two types is in two rows) and the ticket types' names (2); refunds their totals
# (1). One day of one order, or three months of all of them: the same. When every day of
# the period is summarized, nothing is computed live: the days' queries are not made.
QUERIES = {"day": 3, "channel": 3, "gateway": 3, "ticket_type": 5}
SUMMARIZED = {"day": 2, "channel": 2, "gateway": 2, "ticket_type": 3}
PERIODS = (
    {"from": "2026-03-01", "to": "2026-03-01"},
    {"from": "2026-02-01", "to": "2026-04-30"},
)


@pytest.mark.parametrize(("group_by", "queries"), QUERIES.items())
@pytest.mark.parametrize("summarized", [(), ("2026-03-02", "2026-03-04")])
def test_sales_queries(march, django_assert_num_queries, group_by, queries, summarized):
    if summarized:
        first, last = (date.fromisoformat(day) for day in summarized)
        sales_days_summarize(days=Period(first, last).days())
    finance = client_for(march.finance)
    for period in PERIODS:
        with django_assert_num_queries(queries):
            finance.get(SALES, {**period, "group_by": group_by})


@pytest.mark.parametrize(("group_by", "queries"), SUMMARIZED.items())
def test_sales_queries_of_summarized_days(march, django_assert_num_queries, group_by, queries):
    sales_days_summarize(days=Period(date(2026, 2, 1), date(2026, 4, 30)).days())
    finance = client_for(march.finance)
    for period in PERIODS:
        with django_assert_num_queries(queries):
            finance.get(SALES, {**period, "group_by": group_by})


@pytest.mark.parametrize("group_by", ["day", "gateway"])
def test_refunds_queries(march, django_assert_num_queries, group_by):
    finance = client_for(march.finance)
    for period in (
        {"from": "2026-03-03", "to": "2026-03-03"},
        {"from": "2026-01-01", "to": "2026-12-31"},
    ):
        with django_assert_num_queries(3):
            finance.get(REFUNDS, {**period, "group_by": group_by})
