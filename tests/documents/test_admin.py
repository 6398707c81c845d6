"""Documents in the back office: every model listed, searchable and filtered; versions a
read-only inline of their document; trash, restore and revoke through the services."""

import pytest

from apps.business.documents import services
from apps.business.documents.models import Document, Folder, ShareLink
from apps.support.audit.models import AuditEvent

from .samples import pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def permit(curator, folders):
    document = services.document_create(
        actor=curator, folder=folders["permits"], title="Permiso CITES", file=pdf(), data={}
    )
    services.document_download(actor=curator, document=document, ip_address="10.0.0.1")
    services.share_link_create(actor=curator, document=document, expires_in_hours=2)
    return document


@pytest.mark.parametrize(
    ("url", "query"),
    [
        ("/admin/documents/folder/", {"q": "Permisos", "is_public__exact": "0"}),
        ("/admin/documents/tag/", {"q": "x"}),
        ("/admin/documents/document/", {"q": "CITES", "trash": "no"}),
        ("/admin/documents/documentversion/", {"q": "CITES", "content_type": "application/pdf"}),
        ("/admin/documents/documentaccess/", {"q": "10.0.0.1", "channel__exact": "api"}),
        ("/admin/documents/sharelink/", {"q": "CITES"}),
    ],
)
def test_every_documents_model_is_listed_searched_and_filtered(back_office, permit, url, query):
    response = back_office.get(url, query)
    assert response.status_code == 200
    assert response.context["cl"].result_count == (0 if "tag" in url else 1)


def test_a_document_shows_its_versions_read_only(back_office, permit, curator):
    services.version_add(actor=curator, document=permit, file=pdf("v2.pdf", "Two"))
    response = back_office.get(f"/admin/documents/document/{permit.pk}/change/")
    assert response.status_code == 200
    [inline] = response.context["inline_admin_formsets"]
    assert [form.original.number for form in inline] == [2, 1]
    assert inline.has_add_permission is False
    assert inline.has_change_permission is False
    assert b'name="_save"' not in response.content


def test_trash_and_restore_actions_call_the_services(back_office, permit):
    changelist = "/admin/documents/document/"
    back_office.post(changelist, {"action": "trash", "_selected_action": [permit.pk]})
    assert Document.objects.get().deleted_at is not None
    trash = back_office.get(changelist, {"trash": "yes"})
    assert trash.context["cl"].result_count == 1
    back_office.post(changelist, {"action": "restore", "_selected_action": [permit.pk]})
    assert Document.objects.get().deleted_at is None
    assert list(
        AuditEvent.objects.filter(
            action__in=["documents.document.trashed", "documents.document.restored"]
        )
        .order_by("sequence")
        .values_list("action", flat=True)
    ) == ["documents.document.trashed", "documents.document.restored"]


def test_a_share_link_is_revoked_by_the_action(back_office, permit):
    link = ShareLink.objects.get()
    back_office.post(
        "/admin/documents/sharelink/", {"action": "revoke", "_selected_action": [link.pk]}
    )
    link.refresh_from_db()
    assert link.revoked_at is not None
    assert AuditEvent.objects.filter(action="documents.share_link.revoked").count() == 1
    page = back_office.get(f"/admin/documents/sharelink/{link.pk}/change/")
    assert link.token_hash.encode() not in page.content


def test_a_folder_added_in_the_back_office_goes_through_the_service(back_office, folders):
    from django.contrib.auth.models import Group

    vet = Group.objects.get(name="veterinarian")
    response = back_office.post(
        "/admin/documents/folder/add/",
        {"name": "Necropsias", "parent": folders["vet"].pk, "description": "", "roles": [vet.pk]},
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="documents.folder.created").count() == 4
    wider = back_office.post(
        "/admin/documents/folder/add/",
        {"name": "Abierta", "parent": folders["vet"].pk, "is_public": "on"},
    )
    assert wider.status_code == 200
    assert list(wider.context["adminform"].form.errors) == ["roles"]
    assert not Folder.objects.filter(name="Abierta").exists()
