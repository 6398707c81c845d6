"""A bearer token's user is read with its roles in one statement; simplejwt's checks stand."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.support.security.roles import Role
from tests.factories import UserFactory
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db

PAYMENTS = "/api/v1/payments/payments/"  # finance reads it; the ticket office may not


def statements_touching(queries, table):
    return [q["sql"] for q in queries.captured_queries if table in q["sql"]]


def test_the_user_and_its_roles_are_read_in_one_statement():
    finance = staff_member(Role.FINANCE)
    finance.groups.add(Group.objects.create(name='odd, "name" ünïcode'))
    client = client_for(finance)

    with CaptureQueriesContext(connection) as queries:
        answer = client.get(PAYMENTS)

    assert answer.status_code == 200
    user_reads = statements_touching(queries, "security_user")
    assert len(user_reads) == 1, user_reads
    assert "auth_group" in user_reads[0]
    assert statements_touching(queries, "auth_group") == user_reads
    assert answer.wsgi_request.user._role_names == frozenset({Role.FINANCE, 'odd, "name" ünïcode'})


def test_a_role_taken_away_counts_from_the_next_request():
    member = staff_member(Role.FINANCE)
    client = client_for(member)
    assert client.get(PAYMENTS).status_code == 200

    member.groups.clear()
    member.groups.add(Group.objects.get(name=Role.TICKET_OFFICE))

    assert client.get(PAYMENTS).status_code == 403


def test_a_user_without_roles_has_none():
    answer = client_for(UserFactory()).get(PAYMENTS)

    assert answer.status_code == 403
    assert answer.wsgi_request.user._role_names == frozenset()


def test_simplejwt_s_own_checks_still_refuse():
    member = staff_member(Role.FINANCE)
    client = client_for(member)
    member.is_active = False
    member.save()
    gone = client_for(UserFactory.build(pk=987654))

    inactive, unknown = client.get(PAYMENTS), gone.get(PAYMENTS)

    assert (inactive.status_code, inactive.json()["code"]) == (401, "user_inactive")
    assert (unknown.status_code, unknown.json()["code"]) == (401, "user_not_found")


@pytest.mark.parametrize(
    "claim",
    [
        *("abc", "", 2**63, 2**70, -1, 0, 1.5, True, None, [1], {"id": 1}),
        *("1" * 4301, "٣", "\uff11", "²", "+1", " 1", "1 ", "0x1", "1e3", "9" * 19, "9" * 20),
    ],
)
def test_a_signed_token_whose_user_id_is_no_key_finds_no_user(claim):
    """The user is read by a statement compiled once (docs/adr/0053): a claim that is no key
    never reaches it; the answer is simplejwt's own."""
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(staff_member(Role.FINANCE))
    token["user_id"] = claim
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    answer = client.get(PAYMENTS)

    assert (answer.status_code, answer.json()["code"]) == (401, "user_not_found")


def test_a_token_whose_user_id_is_text_finds_its_user():
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import AccessToken

    finance = staff_member(Role.FINANCE)
    token = AccessToken.for_user(finance)
    token["user_id"] = str(finance.pk)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    answer = client.get(PAYMENTS)

    assert answer.status_code == 200
    assert answer.wsgi_request.user.pk == finance.pk
