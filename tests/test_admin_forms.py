"""Every add and change form of the back office, submitted as a browser would (its own fields
as rendered, plus the values of a new row), as a superuser: never a 500, and the row saved.
A model read-only by design answers its add page with 403 and shows its rows without a save
button. (Adding an animal once answered 500: the form lacked what its service sets.)"""

import datetime
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.business.education.models import Program
from apps.business.infrastructure.models import Habitat, Section
from apps.business.wildlife.models import Animal, ConservationStatus, Species
from apps.support.security.roles import Role
from tests.factories import UserFactory
from tests.helpers import staff_member
from tests.park import fill_the_park

pytestmark = pytest.mark.django_db

NEXT_YEAR = timezone.localdate().year + 1


class FormFields(HTMLParser):
    """The values a browser sends for the form of an admin page (without pressing a button)."""

    def __init__(self) -> None:
        super().__init__()
        self.data: list[tuple[str, str]] = []
        self.inside = False
        self.select: str | None = None
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        attrs = {name: value or "" for name, value in attributes}
        if tag == "form" and attrs.get("id", "").endswith("_form"):
            self.inside = True
        if not self.inside or ("name" not in attrs and tag != "option"):
            return
        name = attrs.get("name", "")
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.data.append((name, attrs.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select":
            self.select = name
        elif tag == "option" and self.select is not None and "selected" in attrs:
            self.data.append((self.select, attrs.get("value", "")))
        elif tag == "textarea":
            self.textarea, self.text = name, ""

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.data.append((self.textarea, self.text.removeprefix("\n")))
            self.textarea = None


def submitted(response, **values) -> dict:
    """The page's form as a browser would send it, with ``values`` typed over it."""
    parser = FormFields()
    parser.feed(response.content.decode())
    data: dict = {}
    for name, value in parser.data:
        data.setdefault(name, []).append(value)
    data.update(values)
    return data


def outstanding_token():
    RefreshToken.for_user(UserFactory())  # recorded as outstanding
    return OutstandingToken.objects.order_by("pk").last()


def new_rows(administrator) -> dict:
    """What a new row of each model that can be added needs typed in."""
    educator = staff_member(Role.EDUCATOR)
    habitat = Habitat.objects.filter(is_public=True).first()
    animal = Animal.objects.filter(current_habitat=habitat).first()
    start = timezone.localtime() + datetime.timedelta(days=20)
    return {
        "auth.group": {"name": "Guías"},
        "documents.folder": {"name": "Actas"},
        "documents.tag": {"name": "actas"},
        "donations.campaign": {
            "slug": "manglares",
            "title_es": "Manglares",
            "goal": "500000.00",
            "currency": "CRC",
            "suggested_amounts": "[]",
            "starts_at_0": f"{NEXT_YEAR}-01-01",
            "starts_at_1": "08:00:00",
        },
        "education.instructor": {"user": str(educator.pk)},
        "education.program": {
            "slug": "snorkel",
            "title_es": "Snorkel",
            "audience": "families",
            "duration_minutes": "60",
            "min_participants": "1",
            "max_participants": "12",
            "price": "8000.00",
            "currency": "CRC",
        },
        "education.session": {
            "program": str(Program.objects.filter(is_public=True).first().pk),
            "starts_at_0": start.date().isoformat(),
            "starts_at_1": "09:00:00",
            "section": str(habitat.section_id),
        },
        "infrastructure.habitat": {
            "name": "Laguna",
            "section": str(Section.objects.first().pk),
            "kind": "lagoon",
            "water_type": "salt",
            "volume_litres": "90000",
            "capacity": "10",
        },
        "infrastructure.section": {"name_es": "Manglar", "display_order": "5"},
        "infrastructure.waterreading": {
            "habitat": str(habitat.pk),
            "taken_at_0": f"{NEXT_YEAR}-01-02",
            "taken_at_1": "08:00:00",
            "temperature": "26.500",
        },
        "security.user": {
            "email": "nueva@parquemarino.test",
            "password1": "Un-buen-secreto-2026",
            "password2": "Un-buen-secreto-2026",
        },
        "taggit.tag": {"name": "corales", "slug": "corales"},
        "tickets.closure": {"date": f"{NEXT_YEAR}-12-24", "reason": "Nochebuena"},
        "tickets.openingschedule": {
            "name": "Temporada alta",
            "valid_from": f"{NEXT_YEAR}-01-01",
            "weekdays": "[0, 1, 2, 3, 4, 5, 6]",
            "opens_at": "09:00",
            "closes_at": "17:00",
            "slot_minutes": "30",
            "capacity_per_slot": "80",
        },
        "tickets.tickettype": {
            "code": "senior",
            "name_es": "Adulto mayor",
            "price": "1500.00",
            "currency": "CRC",
            "min_quantity": "1",
            "display_order": "3",
        },
        "token_blacklist.blacklistedtoken": {"token": str(outstanding_token().pk)},
        "wagtaildocs.document": {
            "title": "Reglamento",
            "file": SimpleUploadedFile("reglamento.txt", b"Reglas del parque"),
        },
        "wildlife.animal": {
            "institutional_id": "PMP-2026-0900",
            "species": str(Species.objects.filter(is_public=True).first().pk),
            "origin": "born_here",
            "habitat": str(habitat.pk),
            "sex": "male",
        },
        "wildlife.medicalrecord": {
            "animal": str(animal.pk),
            "kind": "exam",
            "performed_on": "2026-03-02",
            "summary": "Revisión",
        },
        "wildlife.species": {
            "common_name_es": "Pez loro",
            "scientific_name": "Scarus guacamaia",
            "taxon_class": "Actinopterygii",
            "taxon_order": "Perciformes",
            "family": "Scaridae",
            "conservation_status": str(ConservationStatus.objects.get(code="NT").pk),
        },
        "wildlife.weight": {"animal": str(animal.pk), "weight_kg": "3.200"},
    }


# Added in the back office by nobody: records written by the services and the jobs.
NEVER_ADDED = [
    "audit.auditchainhead",
    "audit.auditevent",
    "axes.accessattempt",
    "axes.accessfailurelog",
    "axes.accesslog",
    "common.emaildelivery",
    "documents.document",
    "documents.documentaccess",
    "documents.documentversion",
    "documents.sharelink",
    "donations.donation",
    "education.enrollment",
    "exhibitions.exhibition",
    "exhibitions.exhibitionimage",
    "exhibitions.previewlink",
    "finance.salesday",
    "finance.salesdaytotal",
    "infrastructure.wateralert",
    "integrations.sandboxledgerentry",
    "invoicing.invoice",
    "invoicing.invoicecounter",
    "payments.gatewaystatement",
    "payments.gatewaystatementline",
    "payments.order",
    "payments.orderline",
    "payments.payment",
    "payments.refund",
    "payments.webhookevent",
    "security.refreshtokenrotation",
    "tickets.checkin",
    "tickets.reservation",
    "tickets.ticket",
    "tickets.timeslot",
    "token_blacklist.outstandingtoken",
    "wildlife.animallocation",
    "wildlife.conservationstatus",
]


@pytest.fixture
def park(administrator, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "documents"), "base_url": None},
        },
    }
    administrator.is_superuser = True
    administrator.save()
    fill_the_park(administrator, UserFactory())
    return administrator


def admin_url(model, *parts) -> str:
    return "/".join(("/admin", model._meta.app_label, model._meta.model_name, *parts, ""))


def test_every_add_form_of_the_back_office_saves_its_row(client, park):
    client.force_login(park)
    rows = new_rows(park)
    never_added, added = [], {}
    for model in sorted(admin.site._registry, key=lambda model: model._meta.label_lower):
        label = model._meta.label_lower
        page = client.get(admin_url(model, "add"))
        if page.status_code == 403:
            never_added.append(label)
            continue
        assert page.status_code == 200, label
        before = model._default_manager.count()
        response = client.post(admin_url(model, "add"), submitted(page, **rows[label]))
        errors = getattr(response, "context", None) and response.context.get("errors")
        assert (label, response.status_code, errors or None) == (label, 302, None)
        added[label] = model._default_manager.count() - before
    assert never_added == NEVER_ADDED
    assert added == dict.fromkeys(sorted(rows), 1)


def test_every_change_form_of_the_back_office_saves_or_is_read_only(client, park):
    """Each model's first row, its page submitted unchanged: saved (302), or shown without a
    save button when the model is read-only by design."""
    from taggit.models import Tag as FreeTag
    from wagtail.documents import get_document_model

    from apps.business.payments import services as payments
    from apps.business.payments.models import Order, WebhookEvent

    client.post("/admin/login/", {"username": park.email, "password": "not it"})  # Axes
    RefreshToken.for_user(UserFactory()).blacklist()
    FreeTag.objects.create(name="arrecife", slug="arrecife")
    get_document_model().objects.create(
        title="Mapa", file=SimpleUploadedFile("mapa.txt", b"Mapa del parque")
    )
    payments.refund_request(order=Order.objects.filter(status="paid").first(), actor=park)
    WebhookEvent.objects.create(
        gateway="sandbox", event_id="evt_1", event_type="payment.succeeded", body="{}"
    )
    client.force_login(park)
    saved, read_only, without_rows, refused = [], [], [], []
    for model in sorted(admin.site._registry, key=lambda model: model._meta.label_lower):
        label = model._meta.label_lower
        row = model._default_manager.order_by("pk").first()
        if row is None:
            without_rows.append(label)
            continue
        page = client.get(admin_url(model, str(row.pk), "change"))
        assert page.status_code == 200, label
        if not page.context["has_change_permission"]:
            assert 'name="_save"' not in page.content.decode(), label
            read_only.append(label)
            continue
        response = client.post(admin_url(model, str(row.pk), "change"), submitted(page))
        if response.status_code == 403:
            refused.append(label)
            continue
        errors = getattr(response, "context", None) and response.context.get("errors")
        assert (label, response.status_code, errors or None) == (label, 302, None)
        saved.append(label)
    assert saved == [
        "auth.group",
        "axes.accessattempt",
        "axes.accesslog",
        "documents.folder",
        "documents.tag",
        "donations.campaign",
        "education.instructor",
        "education.program",
        "education.session",
        "infrastructure.habitat",
        "infrastructure.section",
        "security.user",
        "taggit.tag",
        "tickets.openingschedule",
        "tickets.tickettype",
        "token_blacklist.blacklistedtoken",
        "wagtaildocs.document",
        "wildlife.animal",
        "wildlife.medicalrecord",
        "wildlife.species",
    ]
    # Records that jobs, gateways and visitors' downloads write (their add page is 403 above).
    assert without_rows == [
        "axes.accessfailurelog",
        "common.emaildelivery",
        "documents.documentaccess",
        "exhibitions.previewlink",
        "finance.salesday",
        "finance.salesdaytotal",
        "payments.gatewaystatement",
        "payments.gatewaystatementline",
        "security.refreshtokenrotation",
        "tickets.checkin",
    ]
    # Records, and what is never changed once written (a closure is deleted and added again,
    # a weighing is recorded anew): shown without a save button.
    assert read_only == [
        "audit.auditchainhead",
        "audit.auditevent",
        "documents.document",
        "documents.documentversion",
        "documents.sharelink",
        "donations.donation",
        "education.enrollment",
        "exhibitions.exhibition",
        "exhibitions.exhibitionimage",
        "infrastructure.wateralert",
        "infrastructure.waterreading",
        "integrations.sandboxledgerentry",
        "invoicing.invoice",
        "invoicing.invoicecounter",
        "payments.order",
        "payments.orderline",
        "payments.payment",
        "payments.refund",
        "payments.webhookevent",
        "tickets.closure",
        "tickets.reservation",
        "tickets.ticket",
        "tickets.timeslot",
        "wildlife.animallocation",
        "wildlife.conservationstatus",
        "wildlife.weight",
    ]
    # simplejwt's own admin: its page is shown for reading, a save is refused (403).
    assert refused == ["token_blacklist.outstandingtoken"]
