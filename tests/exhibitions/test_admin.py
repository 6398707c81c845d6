"""Publishing and unpublishing from the back office's list of exhibitions: the API's
services, by the signed-in editor; refusals shown as messages, nothing changed."""

import pytest
from django.contrib import admin
from django.test import RequestFactory

from api import back_office
from apps.business.exhibitions.models import Exhibition
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.exhibitions.conftest import make
from tests.helpers import staff_member

pytestmark = pytest.mark.django_db

LIST = "/admin/exhibitions/exhibition/"


def run(client, action, *exhibitions):
    return client.post(
        LIST,
        {"action": action, "_selected_action": [exhibition.pk for exhibition in exhibitions]},
        follow=True,
    )


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def state(exhibition):
    row = Exhibition.objects.get(pk=exhibition.pk)
    return row.live, row.has_unpublished_changes, row.live_revision_id


@pytest.mark.parametrize("role", [Role.CONTENT_EDITOR, Role.CURATOR])
def test_an_editor_publishes_and_unpublishes_from_the_list(client, editor, role):
    member = staff_member(role)
    draft = make(editor)
    assert state(draft)[0] is False
    client.force_login(member)
    response = run(client, "publish", draft)
    assert messages_of(response) == ["1 exhibición publicada."]
    row = Exhibition.objects.get(pk=draft.pk)
    assert (row.live, row.has_unpublished_changes) == (True, False)
    assert row.live_revision == row.latest_revision
    published = AuditEvent.objects.get(action="exhibitions.exhibition.published")
    assert (published.actor_id, published.target_id, published.metadata["slug"]) == (
        member.pk,
        str(draft.pk),
        "arrecife",
    )
    response = run(client, "unpublish", draft)
    assert messages_of(response) == ["1 exhibición despublicada."]
    assert Exhibition.objects.get(pk=draft.pk).live is False
    unpublished = AuditEvent.objects.get(action="exhibitions.exhibition.unpublished")
    assert (unpublished.actor_id, unpublished.target_id) == (member.pk, str(draft.pk))


def test_a_refusal_of_the_service_is_a_message_and_changes_nothing(client, editor):
    """Unpublishing what is not published: the service's 409, shown beside the list."""
    draft = make(editor)
    published = make(editor, publish=True, slug="manglar")
    before = state(draft), state(published)
    client.force_login(editor)
    audited = AuditEvent.objects.count()
    response = run(client, "unpublish", draft)
    assert response.status_code == 200
    assert messages_of(response) == ["arrecife: La exhibición no está publicada ni programada."]
    assert (state(draft), state(published)) == before
    assert AuditEvent.objects.count() == audited


def test_an_exhibition_locked_by_another_editor_is_not_published(client, editor):
    draft = make(editor)
    other = staff_member(Role.CONTENT_EDITOR)
    Exhibition.objects.filter(pk=draft.pk).update(locked=True, locked_by=other)
    client.force_login(editor)
    response = run(client, "publish", draft)
    assert messages_of(response) == [
        "arrecife: Otro editor bloqueó esta exhibición en la pantalla de editores."
    ]
    assert state(draft)[0] is False


@pytest.mark.parametrize("role", [Role.EDUCATOR, Role.VETERINARIAN, Role.TICKET_OFFICE])
def test_roles_that_do_not_edit_exhibitions_get_403_and_nothing_is_published(client, editor, role):
    draft = make(editor)
    client.force_login(staff_member(role))
    assert client.get(LIST).status_code == 403
    response = client.post(LIST, {"action": "publish", "_selected_action": [draft.pk]})
    assert response.status_code == 403
    assert state(draft)[0] is False


def test_the_actions_are_offered_to_exactly_the_roles_the_api_lets_publish(db):
    model_admin = admin.site._registry[Exhibition]
    resource = back_office.resources()[Exhibition]
    offered, allowed = {}, {}
    for role in Role:
        user = staff_member(role)
        request = RequestFactory().get(LIST)
        request.user = user
        offered[role] = sorted(model_admin.get_actions(request))
        allowed[role] = [resource.allows(user, "POST", name) for name in ("publish", "unpublish")]
    editors = {Role.ADMINISTRATOR, Role.CURATOR, Role.CONTENT_EDITOR}
    assert offered == {role: ["publish", "unpublish"] if role in editors else [] for role in Role}
    assert allowed == {role: [role in editors] * 2 for role in Role}
