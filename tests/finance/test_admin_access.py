"""Finance and auditors read the stored daily sales totals in the back office (records)."""

import pytest

from apps.support.security.roles import Role
from tests.helpers import staff_member

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", [Role.FINANCE, Role.AUDITOR])
def test_finance_and_auditors_read_the_daily_totals(client, role):
    client.force_login(staff_member(role))
    for page in ("/admin/finance/salesday/", "/admin/finance/salesdaytotal/"):
        assert client.get(page).status_code == 200
    assert client.get("/admin/finance/salesday/add/").status_code == 403


def test_the_ticket_office_does_not(client):
    client.force_login(staff_member(Role.TICKET_OFFICE))
    assert client.get("/admin/finance/salesday/").status_code == 403
