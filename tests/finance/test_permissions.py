"""Finance and auditors (and administrators) read the reports; nobody else does."""

import pytest

from apps.support.security.roles import Role
from tests.factories import UserFactory
from tests.helpers import client_for, staff_member

from .conftest import MARCH, REFUNDS, SALES

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", [SALES, REFUNDS])
@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("anonymous", 401, "not_authenticated"),
        ("visitor", 403, "permission_denied"),
        (Role.TICKET_OFFICE, 403, "permission_denied"),
        (Role.GATE_STAFF, 403, "permission_denied"),
        (Role.FINANCE, 200, None),
        (Role.AUDITOR, 200, None),
        (Role.ADMINISTRATOR, 200, None),
    ],
)
def test_who_reads_the_reports(url, who, status, code):
    user = (
        {"anonymous": None, "visitor": UserFactory()}.get(who)
        if who
        in (
            "anonymous",
            "visitor",
        )
        else staff_member(who)
    )
    for accept in ("application/json", "text/csv"):
        response = client_for(user).get(url, MARCH, HTTP_ACCEPT=accept)
        assert response.status_code == status
        if code is not None:
            assert response["Content-Type"] == "application/json"
            assert response.json()["code"] == code
            assert set(response.json()) == {"code", "message", "errors", "request_id"}


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_nothing_to_write(method):
    # (Finance itself is refused first: reports grant reads only, 403.)
    response = getattr(client_for(staff_member(Role.ADMINISTRATOR)), method)(SALES, {})
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
