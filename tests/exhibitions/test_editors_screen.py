"""The editors' screen (Wagtail at /cms/): who may open it, the exhibition forms, the species
chooser, and the audit entries of what is done there."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client

from apps.business.exhibitions.models import Exhibition
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.factories import UserFactory
from tests.helpers import staff_member

from .conftest import make

pytestmark = pytest.mark.django_db
LISTING = "/cms/snippets/exhibitions/exhibition/"


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", [Role.CONTENT_EDITOR, Role.CURATOR, Role.ADMINISTRATOR])
def test_editors_open_the_screens_of_their_work(role, editor, species):
    exhibition = make(editor, publish=True)
    client = signed_in(staff_member(role))

    for url in (
        "/cms/",
        LISTING,
        f"{LISTING}add/",
        f"{LISTING}edit/{exhibition.pk}/",
        f"{LISTING}history/{exhibition.pk}/",
        "/cms/species_chooser/",
        "/cms/images/",
    ):
        page = client.get(url)
        assert page.status_code == 200, url
    policy = client.get("/cms/")["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in policy
    assert "script-src 'self'" in policy
    assert species.common_name_es in client.get("/cms/species_chooser/").content.decode()


@pytest.mark.parametrize("who", ["visitor", Role.TICKET_OFFICE, Role.FINANCE])
def test_others_are_kept_out(who):
    user = UserFactory() if who == "visitor" else staff_member(who)
    client = signed_in(user)
    for url in (LISTING, "/cms/"):
        page = client.get(url)
        # Sent to the sign-in page of the screen, which they cannot pass.
        assert (page.status_code, page["Location"].split("?")[0]) == (302, "/cms/login/"), url


def _form(**fields):
    data = {
        "slug": "medusas",
        "kind": "temporary",
        "title_es": "Sala de medusas",
        "title_en": "Jellyfish hall",
        "summary_es": "",
        "summary_en": "",
        "opens_on": "2026-12-01",
        "closes_on": "",
        "section": "",
        "habitat": "",
        "hero_image": "",
        "go_live_at": "",
        "expire_at": "",
        "body_es-count": "0",
        "body_en-count": "0",
        "gallery-TOTAL_FORMS": "0",
        "gallery-INITIAL_FORMS": "0",
        "gallery-MIN_NUM_FORMS": "0",
        "gallery-MAX_NUM_FORMS": "1000",
    }
    return data | fields


def test_what_editors_do_there_is_in_the_audit_trail(editor):
    client = signed_in(editor)

    created = client.post(f"{LISTING}add/", _form())
    assert created.status_code == 302, created.content.decode()[:2000]
    exhibition = Exhibition.objects.get(slug="medusas")
    published = client.post(
        f"{LISTING}edit/{exhibition.pk}/", _form(title_es="Medusas") | {"action-publish": "1"}
    )
    assert published.status_code == 302

    assert Exhibition.objects.get().live is True
    events = list(
        AuditEvent.objects.filter(action__startswith="exhibitions.exhibition")
        .order_by("sequence")
        .values_list("action", "actor_label", "metadata__via")
    )
    assert events == [
        ("exhibitions.exhibition.created", "editor@example.org", "cms"),
        ("exhibitions.exhibition.updated", "editor@example.org", "cms"),
        ("exhibitions.exhibition.published", "editor@example.org", "cms"),
    ]


def test_accounts_and_roles_are_not_managed_in_the_editors_screen(superuser_client_factory):
    """Wagtail's user and group screens would go around the security services' rules (no
    changing one's own roles, every grant audited): closed to everybody, superusers too."""
    client, _user = superuser_client_factory()
    visitor = UserFactory()
    content_editor = Group.objects.get(name=Role.CONTENT_EDITOR)

    for url in (
        "/cms/users/",
        f"/cms/users/edit/{visitor.pk}/",
        "/cms/users/new/",
        "/cms/groups/",
        f"/cms/groups/edit/{content_editor.pk}/",
    ):
        refused = client.get(url)
        # Wagtail's answer to a missing permission: back to the dashboard, with a message.
        assert (refused.status_code, refused.get("Location")) == (302, "/cms/"), url
    assert client.get("/cms/account/change_password/").status_code == 404
    edited = client.post(
        f"/cms/users/edit/{visitor.pk}/",
        {"email": visitor.email, "groups": [content_editor.pk], "is_active": "on"},
    )
    bulk = client.post(
        f"/cms/bulk/security/user/assign_role/?id={visitor.pk}",
        {"role": content_editor.pk},
    )

    assert (edited.status_code, edited["Location"]) == (302, "/cms/")
    assert bulk.status_code == 403
    assert list(visitor.groups.all()) == []
    assert b"/cms/users/" not in client.get("/cms/").content


@pytest.fixture
def superuser_client_factory(db):
    def make():
        user = UserFactory(is_staff=True, is_superuser=True)
        return signed_in(user), user

    return make


# InnoDB's full-text indexes, which Wagtail's search uses on MySQL/MariaDB, show only committed
# rows: there the test commits (and its tables are emptied after it).
@pytest.mark.django_db(
    transaction=connection.vendor == "mysql", serialized_rollback=connection.vendor == "mysql"
)
def test_editors_find_exhibitions_and_pictures_by_words(
    editor, picture, django_capture_on_commit_callbacks
):
    # Wagtail indexes what is saved once the transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        make(editor, publish=True)
        make(editor, slug="medusas", title_es="Sala de medusas")
    client = signed_in(editor)

    found = client.get(f"{LISTING}?q=medusas")
    assert found.status_code == 200
    assert b"Sala de medusas" in found.content
    assert b"Arrecife del Pac" not in found.content
    assert client.get("/cms/images/?q=Agua").status_code == 200
    assert client.get("/cms/species_chooser/?q=tortuga").status_code == 200
