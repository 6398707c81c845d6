"""A report is a fixed number of queries, however many orders and rows it covers."""

import pytest

from tests.helpers import client_for

from .conftest import REFUNDS, SALES

pytestmark = pytest.mark.django_db

# The caller's token user and roles (2), then the report's rows (1); by ticket type also its
# totals (an order of two types is in two rows) and the ticket types' names (2); refunds
# their totals (1). One day of one order, or three months of all of them: the same.
QUERIES = {"day": 3, "channel": 3, "gateway": 3, "ticket_type": 5}


@pytest.mark.parametrize(("group_by", "queries"), QUERIES.items())
def test_sales_queries(march, django_assert_num_queries, group_by, queries):
    finance = client_for(march.finance)
    for period in (
        {"from": "2026-03-01", "to": "2026-03-01"},
        {"from": "2026-02-01", "to": "2026-04-30"},
    ):
        with django_assert_num_queries(queries):
            finance.get(SALES, {**period, "group_by": group_by})


@pytest.mark.parametrize("group_by", ["day", "gateway"])
def test_refunds_queries(march, django_assert_num_queries, group_by):
    finance = client_for(march.finance)
    for period in (
        {"from": "2026-03-03", "to": "2026-03-03"},
        {"from": "2026-01-01", "to": "2026-12-31"},
    ):
        with django_assert_num_queries(4):
            finance.get(REFUNDS, {**period, "group_by": group_by})
