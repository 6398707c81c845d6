"""Verifying the chain: rewritten entries, writers racing the walk, the head, IPv6 addresses."""

import pytest
from django.core.management import call_command

from apps.support.audit import services as audit
from apps.support.audit.chain import HASHED_FIELDS, entry_hash
from apps.support.audit.models import AuditChainHead, AuditEvent
from apps.support.audit.selectors import audit_chain_first_break
from tests.audit.tampering import tamper, tampers
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("address", ["::ffff:10.0.0.1", "fe80::1%eth0", "2001:db8::1"])
def test_entries_from_ipv6_clients_verify(api_client, user, address):
    client = client_for(user)
    client.patch("/api/v1/auth/me/", {"first_name": "Ipv6"}, format="json", REMOTE_ADDR=address)
    event = AuditEvent.objects.get(action="security.user.updated", target_id=str(user.pk))
    assert event.ip_address == {
        "::ffff:10.0.0.1": "::ffff:10.0.0.1",
        "fe80::1%eth0": "fe80::1",
    }.get(address, address)
    assert audit_chain_first_break() == (None, "", AuditEvent.objects.count())


@tampers
def test_rewritten_newest_entry_is_caught_by_the_chain_head():
    audit.record(action="test.one")
    last = audit.record(action="test.two", metadata={"amount": "10.00"})
    fields = {name: getattr(last, name) for name in HASHED_FIELDS} | {
        "metadata": {"amount": "0.00"}
    }
    import json

    tamper(
        "UPDATE audit_auditevent SET metadata = %s, hash = %s WHERE id = %s",
        [json.dumps({"amount": "0.00"}), entry_hash(fields), last.pk],
    )
    broken, reason, checked = audit_chain_first_break()
    assert (broken, checked) == (None, 2)
    assert reason == "the newest entry does not match the chain head's hash (altered)"


def test_entries_written_after_the_walk_began_are_not_a_false_alarm(monkeypatch):
    audit.record(action="test.one")
    original = AuditChainHead.objects.get

    def head_then_new_entry(*args, **kwargs):
        head = original(*args, **kwargs)
        audit.record(action="test.during_the_walk")
        return head

    monkeypatch.setattr(AuditChainHead.objects, "get", head_then_new_entry)
    assert audit_chain_first_break() == (None, "", 1)


def test_verify_command_reports_the_head_mismatch():
    audit.record(action="test.x")
    AuditChainHead.objects.filter(pk=1).update(last_hash="f" * 64)
    with pytest.raises(Exception, match="newest entry does not match"):
        call_command("audit_verify")
