"""The audit trail: what an entry holds, what it never holds, and that it cannot be changed."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test.utils import CaptureQueriesContext

from apps.support.audit import services as audit
from apps.support.audit.masking import MASK, mask
from apps.support.audit.models import AppendOnlyError, AuditChainHead, AuditEvent
from apps.support.security.roles import Role
from tests.audit.tampering import tamper, tampers
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db

with_the_trigger = pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="the append-only trigger exists on PostgreSQL and MySQL/MariaDB, not SQLite",
)


def test_record_outside_a_request_is_by_system():
    event = audit.record(action="tickets.slot.generated", target_type="tickets.slot", target_id=7)
    assert (event.actor_id, event.actor_label, event.actor_roles) == (None, "system", [])
    assert (event.target_type, event.target_id, event.sequence) == ("tickets.slot", "7", 1)
    assert event.previous_hash == "0" * 64
    assert len(event.hash) == 64


def test_record_inside_a_request_carries_actor_roles_and_request(user, settings):
    member = staff_member(Role.FINANCE)
    client = client_for(member)
    response = client.patch(
        "/api/v1/auth/me/",
        {"first_name": "Fiona"},
        format="json",
        HTTP_X_REQUEST_ID="req-audit-1",
        HTTP_USER_AGENT="ParkApp/2.1",
        REMOTE_ADDR="198.51.100.4",
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="security.user.updated", target_id=str(member.pk))
    assert (event.actor_id, event.actor_label, event.actor_roles) == (
        member.pk,
        member.email,
        ["finance"],
    )
    assert (event.request_id, event.ip_address, event.user_agent) == (
        "req-audit-1",
        "198.51.100.4",
        "ParkApp/2.1",
    )
    assert event.changes == {"first_name": ["Ada", "Fiona"]}


def _refund_that_fails() -> None:
    with transaction.atomic():
        audit.record(action="payments.order.refunded")
        raise RuntimeError("the refund failed")


def test_entry_commits_and_rolls_back_with_the_change():
    with pytest.raises(RuntimeError):
        _refund_that_fails()
    assert not AuditEvent.objects.exists()
    assert AuditChainHead.objects.get().sequence == 0


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "new_password1",
        "refresh",
        "access_token",
        "client_secret",
        "card_number",
        "cvv",
        "Authorization",
        "api_key",
        "iban",
        "otp",
        "pin",
    ],
)
def test_sensitive_keys_are_masked_at_any_depth(key):
    event = audit.record(
        action="test.masking",
        changes={key: ["old", "new"]},
        metadata={"nested": [{key: "s3cr3t", "note": "kept"}], "company": "ACME", "spin": 3},
    )
    event.refresh_from_db()
    assert event.changes == {key: MASK}
    assert event.metadata == {"nested": [{key: MASK, "note": "kept"}], "company": "ACME", "spin": 3}


def test_camel_case_keys_are_masked_too():
    assert mask(
        {"newPassword": "x", "accessToken": "y", "clientSecret": "z", "cardNumber": "4"}
    ) == {
        "newPassword": MASK,
        "accessToken": MASK,
        "clientSecret": MASK,
        "cardNumber": MASK,
    }


def test_masking_keeps_what_is_not_secret():
    assert mask({"capacity": 60, "panel": "A", "token_count": 2}) == {
        "capacity": 60,
        "panel": "A",
        "token_count": MASK,
    }


def test_orm_cannot_change_or_delete_entries():
    event = audit.record(action="test.immutable", metadata={"n": 1})
    event.metadata = {"n": 2}
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    event.refresh_from_db()
    assert (event.action, event.metadata) == ("test.immutable", {"n": 1})


@with_the_trigger
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET action = 'tampered' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ],
)
def test_database_trigger_refuses_raw_sql(statement):
    event = audit.record(action="test.trigger")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [event.pk])
    event.refresh_from_db()
    assert event.action == "test.trigger"


def verify() -> str:
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


def test_audit_verify_passes_on_an_intact_chain():
    for index in range(5):
        audit.record(action="test.chain", metadata={"index": index, "amount": "12.50"})
    assert verify().strip() == "Audit chain intact: 5 entries verified."


@tampers
def test_audit_verify_names_the_altered_entry():
    events = [audit.record(action="test.chain", metadata={"index": index}) for index in range(5)]
    tamper(
        "UPDATE audit_auditevent SET metadata = %s WHERE id = %s", ['{"index": 99}', events[2].pk]
    )
    with pytest.raises(CommandError) as error:
        verify()
    assert str(error.value).startswith(
        f"Audit chain broken at entry #3 (id {events[2].pk}, test.chain): its content does not "
        "match its hash (altered). 2 entries before it are intact."
    )


@tampers
def test_audit_verify_notices_a_removed_entry():
    events = [audit.record(action="test.chain") for _ in range(4)]
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    with pytest.raises(CommandError, match=r"broken at entry #3 .*sequence 2 is missing"):
        verify()


@tampers
def test_audit_verify_notices_the_newest_entry_removed():
    events = [audit.record(action="test.chain") for _ in range(3)]
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[2].pk])
    with pytest.raises(CommandError, match=r"after entry #2: the chain head says 3"):
        verify()


def test_back_office_shows_entries_read_only(client, administrator):
    event = audit.record(action="test.admin")
    client.force_login(administrator)
    assert client.get("/admin/audit/auditevent/").status_code == 200
    assert client.get(f"/admin/audit/auditevent/{event.pk}/change/").status_code == 200
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    response = client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_registered_models_are_recorded_on_delete_with_their_last_values(user):
    user_id, email = user.pk, user.email
    user.delete()
    event = AuditEvent.objects.get(action="security.user.deleted")
    assert event.target_id == str(user_id)
    assert event.changes["email"] == [email, None]
    assert event.changes["password"] == MASK
    assert "last_login" not in event.changes


def test_back_office_edits_are_recorded_with_the_staff_member(client, administrator, user):
    administrator.is_superuser = True
    administrator.save()
    client.force_login(administrator)
    response = client.post(
        f"/admin/security/user/{user.pk}/change/",
        {
            "email": user.email,
            "first_name": "Changed",
            "last_name": user.last_name,
            "phone": "",
            "preferred_language": "es",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
        },
    )
    assert response.status_code == 302, response.content[:500]
    event = AuditEvent.objects.filter(action="security.user.updated", target_id=str(user.pk)).get()
    assert (event.actor_id, event.changes) == (administrator.pk, {"first_name": ["Ada", "Changed"]})


def test_nul_characters_never_break_an_entry(client):
    event = audit.record(
        action="test.nul", target_type="x", target_id="a\x00b", metadata={"k\x00": "v\x00"}
    )
    event.refresh_from_db()
    assert (event.target_id, event.metadata) == ("a\ufffdb", {"k\ufffd": "v\ufffd"})
    assert verify().strip().endswith("1 entries verified.")


def test_an_entry_and_its_head_move_together_in_the_fewest_statements():
    """PostgreSQL moves the head in the entry's own INSERT (docs/adr/0054): two statements, the
    head's lock and the entry; elsewhere a third moves the head. Either way the head names the
    entry just written, and the entry reads back as it was returned."""
    first = audit.record(action="tickets.slot.generated", target_type="tickets.slot", target_id=1)
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        second = audit.record(action="tickets.slot.closed", metadata={"reason": "storm"})
    statements = [query["sql"].split()[0].upper() for query in captured]
    expected = {"postgresql": ["SELECT", "WITH"], "sqlite": ["SELECT", "INSERT", "UPDATE"]}
    assert statements == expected.get(connection.vendor, ["SELECT", "INSERT", "UPDATE"])
    head = AuditChainHead.objects.get()
    assert (head.sequence, head.last_hash) == (2, second.hash)
    assert (second.sequence, second.previous_hash) == (2, first.hash)
    stored = AuditEvent.objects.get(pk=second.pk)
    assert {f.attname: getattr(stored, f.attname) for f in AuditEvent._meta.concrete_fields} == {
        f.attname: getattr(second, f.attname) for f in AuditEvent._meta.concrete_fields
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="one statement on PostgreSQL only")
def test_an_entry_refused_by_the_database_leaves_the_head_where_it_was():
    first = audit.record(action="tickets.slot.generated")
    with pytest.raises(DatabaseError), transaction.atomic():
        audit.record(action="x" * 101)  # longer than the column: the whole statement fails
    head = AuditChainHead.objects.get()
    assert (head.sequence, head.last_hash) == (1, first.hash)
    assert list(AuditEvent.objects.values_list("sequence", flat=True)) == [1]
