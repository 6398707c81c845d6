"""The back office follows the API's role matrix (``api.back_office``), measured end to end:
for every role and every model the back office shows and the API lists, the role opens the
model's list in the back office exactly when the API lists it every row of it (a visitor's
own orders, or only the public species, do not open the back office's list of all of them);
and the back office never lets a role add, change or delete what the API refuses it, nor
refuses what the API allows where the back office offers that write at all."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory

from api import back_office
from apps.business.documents import services as documents
from apps.business.education.models import Instructor, Program
from apps.support.security.roles import Role
from tests.factories import SessionFactory, TicketTypeFactory, UserFactory
from tests.helpers import client_for, staff_member
from tests.park import fill_the_park

pytestmark = pytest.mark.django_db

# Every model the back office shows that the API lists (a model that gains a list in the API
# joins here, and its back office follows it).
COMPARED = [
    "audit.auditevent",
    "auth.group",
    "documents.document",
    "documents.folder",
    "donations.campaign",
    "donations.donation",
    "education.enrollment",
    "education.instructor",
    "education.program",
    "education.session",
    "exhibitions.exhibition",
    "exhibitions.exhibitionimage",
    "infrastructure.habitat",
    "infrastructure.section",
    "infrastructure.wateralert",
    "infrastructure.waterreading",
    "invoicing.invoice",
    "payments.order",
    "payments.payment",
    "payments.refund",
    "payments.webhookevent",
    "security.user",
    "tickets.checkin",
    "tickets.closure",
    "tickets.openingschedule",
    "tickets.ticket",
    "tickets.tickettype",
    "tickets.timeslot",
    "wildlife.animal",
    "wildlife.conservationstatus",
    "wildlife.medicalrecord",
    "wildlife.species",
]


@pytest.fixture
def park(administrator, settings, tmp_path):
    """The fuzz test's park, and a row hidden from each role that lists a model but not all
    of it: a document only veterinarians see, an inactive instructor, a ticket type off sale,
    a session of a program that is not public."""
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "documents"), "base_url": None},
        },
    }
    fill_the_park(administrator, UserFactory())
    clinic = documents.folder_create(
        actor=administrator,
        data={"name": "Clínica", "roles": list(Group.objects.filter(name=Role.VETERINARIAN))},
    )
    documents.document_create(
        actor=administrator,
        folder=clinic,
        title="Protocolo",
        file=SimpleUploadedFile("protocolo.pdf", b"%PDF-1.4\n%%EOF\n"),
        data={},
    )
    Instructor.objects.create(user=staff_member(Role.EDUCATOR), is_active=False)
    TicketTypeFactory(is_active=False)
    SessionFactory(program=Program.objects.get(is_public=False))


def compared_models():
    registered = {model._meta.label_lower: model for model in admin.site._registry}
    listed = {model._meta.label_lower for model in back_office.resources()}
    return {label: registered[label] for label in sorted(set(registered) & listed)}


def path_of(route):
    """The path of a router's list route (``api/v1/audit/^events/$``)."""
    return "/" + route.replace("^", "").replace("$", "")


# The query of a list that shows some rows only when asked (drafts: editors' preview).
EVERY_ROW_QUERY = {"exhibitions.exhibition": {"preview": "true"}}


def listed_rows(client, label, route):
    """How many rows the API lists to ``client`` (None: refused)."""
    response = client.get(path_of(route), {"page_size": 100, **EVERY_ROW_QUERY.get(label, {})})
    if response.status_code != 200:
        return None
    body = response.json()
    return body["count"] if isinstance(body, dict) else len(body)


def test_the_compared_models_are_every_model_of_the_back_office_the_api_lists(db):
    assert list(compared_models()) == COMPARED


def test_each_role_views_in_the_back_office_what_the_api_lists_it_in_full(
    client, administrator, park
):
    models = compared_models()
    routes = {label: back_office.resources()[model].route for label, model in models.items()}
    api, back = {}, {}
    for role in Role:
        member = staff_member(role)
        api_client = client_for(member)
        client.force_login(member)
        for label in models:
            every_row = listed_rows(client_for(administrator), label, routes[label])
            rows = listed_rows(api_client, label, routes[label])
            api[role, label] = rows is not None and rows == every_row
            status = client.get(f"/admin/{label.replace('.', '/')}/").status_code
            assert status in (200, 403), (role, label, status)
            back[role, label] = status == 200
    assert [(*key, back[key], api[key]) for key in api if back[key] != api[key]] == []
    assert back == api
    # What the brief named: the ticket office sells and looks after orders, never payments.
    assert (
        api[Role.TICKET_OFFICE, "payments.payment"],
        api[Role.TICKET_OFFICE, "payments.order"],
    ) == (
        False,
        True,
    )
    assert (api[Role.FINANCE, "payments.payment"], api[Role.CURATOR, "documents.document"]) == (
        True,
        False,
    )


WRITES = {
    "add": ("post", "create", "{route}"),
    "change": ("patch", "partial_update", "{route}0/"),
    "delete": ("delete", "destroy", "{route}0/"),
}


def test_the_back_office_writes_only_what_the_api_lets_each_role_write(db, administrator):
    """A write the API offers is asked of the API with nothing in it (an empty body, an id
    that does not exist): 403 is a refusal, anything else (400, 404) means it would go on."""
    administrator.is_superuser = True
    administrator.save()
    models = compared_models()
    factory = RequestFactory()

    def back_office_allows(user, model, permission):
        request = factory.get("/admin/")
        request.user = user
        model_admin = admin.site._registry[model]
        check = getattr(model_admin, f"has_{permission}_permission")
        return check(request) if permission == "add" else check(request, None)

    compared = {}
    for role in Role:
        member = staff_member(role)
        api_client = client_for(member)
        for label, model in models.items():
            resource = back_office.resources()[model]
            route = path_of(resource.route)
            for permission, (method, action, path) in WRITES.items():
                if action not in resource.actions:
                    continue
                status = getattr(api_client, method)(path.format(route=route), {}).status_code
                api_allows = status != 403
                allows = back_office_allows(member, model, permission)
                offered = back_office_allows(administrator, model, permission)
                compared[role, label, permission] = (allows, api_allows if offered else allows)
                assert not allows or api_allows, (role, label, permission)
    assert {key: pair for key, pair in compared.items() if pair[0] != pair[1]} == {}
