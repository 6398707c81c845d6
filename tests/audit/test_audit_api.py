"""GET /api/v1/audit/events/ and its CSV export: auditors and administrators only."""

import csv
import io

import pytest

from apps.support.audit import services as audit
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/audit/events/"


@pytest.fixture
def auditor():
    return staff_member(Role.AUDITOR)


@pytest.fixture
def trail():
    audit.record(action="payments.order.refunded", target_type="payments.order", target_id=41)
    audit.record(action="payments.order.paid", target_type="payments.order", target_id=42)
    audit.record(action="wildlife.animal.moved", target_type="wildlife.animal", target_id=7)


@pytest.mark.parametrize(
    "role", [r for r in Role.values if r not in (Role.AUDITOR, Role.ADMINISTRATOR)]
)
def test_other_roles_cannot_read_the_trail(role):
    assert client_for(staff_member(role)).get(EVENTS).status_code == 403


def test_visitor_and_anonymous_cannot_read_the_trail(user, api_client):
    assert client_for(user).get(EVENTS).status_code == 403
    assert api_client.get(EVENTS).status_code == 401


def test_auditor_filters_by_action_prefix_and_target(auditor, trail):
    client = client_for(auditor)
    body = client.get(EVENTS, {"action_prefix": "payments.", "ordering": "sequence"}).json()
    assert [(e["action"], e["target_id"]) for e in body["results"]] == [
        ("payments.order.refunded", "41"),
        ("payments.order.paid", "42"),
    ]
    body = client.get(EVENTS, {"target_type": "wildlife.animal", "target_id": "7"}).json()
    assert [e["action"] for e in body["results"]] == ["wildlife.animal.moved"]


def test_auditor_filters_by_actor_and_dates(auditor, administrator, trail):
    audit.record(action="security.role.granted", actor=administrator, metadata={"role": "curator"})
    first = AuditEvent.objects.order_by("sequence").first()
    client = client_for(auditor)
    by_actor = client.get(EVENTS, {"actor": administrator.pk}).json()
    assert [(e["actor_id"], e["action"]) for e in by_actor["results"]] == [
        (administrator.pk, "security.role.granted")
    ]
    before = client.get(EVENTS, {"occurred_before": first.occurred_at.isoformat()}).json()
    assert before["count"] == 0
    after = client.get(EVENTS, {"occurred_after": first.occurred_at.isoformat()}).json()
    assert after["count"] == AuditEvent.objects.count()


def test_trail_is_read_only_through_the_api(auditor, administrator, trail):
    event = AuditEvent.objects.first()
    url = f"{EVENTS}{event.pk}/"
    # Auditors may not write at all (403); for administrators the methods do not exist (405).
    for client, refused in ((client_for(auditor), 403), (client_for(administrator), 405)):
        assert client.delete(url).status_code == refused
        assert client.patch(url, {"action": "x"}, format="json").status_code == refused
        assert client.post(EVENTS, {"action": "x"}, format="json").status_code == refused
    event.refresh_from_db()
    assert event.action == "wildlife.animal.moved"  # the newest entry, unchanged


def test_csv_export_is_filtered_and_itself_audited(auditor, trail):
    response = client_for(auditor).get(f"{EVENTS}export/", {"action_prefix": "payments."})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(row["action"], row["target_id"]) for row in rows] == [
        ("payments.order.refunded", "41"),
        ("payments.order.paid", "42"),
    ]
    export = AuditEvent.objects.get(action="audit.events.exported")
    assert export.actor_id == auditor.pk
    assert export.metadata == {"filters": {"action_prefix": "payments."}, "count": 2}


@pytest.mark.parametrize(
    ("query", "headers"),
    [({"format": "csv"}, {}), ({}, {"HTTP_ACCEPT": "text/csv"})],
    ids=["format=csv", "Accept: text/csv"],
)
def test_csv_export_errors_are_json_and_say_so(query, headers):
    response = client_for(None).get(f"{EVENTS}export/", query, **headers)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_authenticated"


def test_csv_export_neutralises_spreadsheet_formulas(auditor):
    audit.record(action="test.csv", target_type="x", target_id='=HYPERLINK("http://evil")')
    response = client_for(auditor).get(f"{EVENTS}export/", {"action": "test.csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0]["target_id"] == '\'=HYPERLINK("http://evil")'


def test_list_queries_are_constant(auditor, django_assert_num_queries):
    for index in range(60):
        audit.record(action="test.count", metadata={"i": index})
    client = client_for(auditor)
    # The caller with their roles, the count, the page.
    with django_assert_num_queries(3):
        assert len(client.get(EVENTS, {"page_size": 1}).json()["results"]) == 1
    with django_assert_num_queries(3):
        assert len(client.get(EVENTS, {"page_size": 50}).json()["results"]) == 50


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("2691-06-29T11:38:20+17:42", 200),  # an offset PostgreSQL refuses: turned into UTC
        ("0001-01-01T00:00:00+05:00", 400),  # before year 1 in UTC
        ("not-a-date", 400),
    ],
)
def test_odd_dates_are_answered_never_500(auditor, value, status):
    response = client_for(auditor).get(EVENTS, {"occurred_after": value})
    assert response.status_code == status
    if status == 400:
        assert [e["field"] for e in response.json()["errors"]] == ["occurred_after"]
