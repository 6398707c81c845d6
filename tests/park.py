"""A small park for tests that need one of everything (the API fuzz test, the back office's
permissions against the API's)."""

import io
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from apps.business.documents import services as documents
from apps.business.donations.models import Campaign
from apps.business.education import services as education
from apps.business.education.models import Instructor
from apps.business.exhibitions import services as exhibitions
from apps.business.infrastructure import services as infrastructure
from apps.business.invoicing import services as invoicing
from apps.business.payments import services as payments
from apps.business.payments.handlers import LineRequest
from apps.business.tickets import services as tickets
from apps.business.tickets.models import TimeSlot
from apps.business.wildlife import services as wildlife
from apps.support.security.roles import Role
from tests.factories import (
    HabitatFactory,
    ProgramFactory,
    SectionFactory,
    SpeciesFactory,
    TicketTypeFactory,
)
from tests.helpers import staff_member
from tests.sales import paid_order, place_order


def _png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "teal").save(buffer, format="PNG")
    return SimpleUploadedFile("fish.png", buffer.getvalue(), content_type="image/png")


def fill_the_park(administrator: Any, visitor: Any) -> None:
    """A small park made through the services: public and private sections, habitats, species
    and animals (one released), readings and an alert, a schedule with its slots and a closure,
    a visitor's held order and paid order (with its invoice), programs (one not public) and
    their sessions with enrollments, campaigns (one a draft) and a gift, exhibitions (one
    published, one a draft), folders of a role, public and empty, with documents."""
    curator = staff_member(Role.CURATOR)
    section = SectionFactory(is_public=True)
    SectionFactory(is_public=False)
    tank = HabitatFactory(section=section, is_public=True)
    rehab = HabitatFactory(section=section, kind="rehabilitation", is_public=False)
    species = SpeciesFactory(is_public=True)
    SpeciesFactory(is_public=False)
    wildlife.species_image_add(species=species, image=_png(), alt_text_es="Un pez")
    resident = wildlife.animal_register(
        actor=curator,
        habitat=tank,
        data={
            "institutional_id": "PMP-0001",
            "species": species,
            "origin": "born_here",
        },
    )
    rescued = wildlife.animal_register(
        actor=curator,
        habitat=rehab,
        data={"institutional_id": "PMP-0002", "species": species, "origin": "rescued"},
    )
    wildlife.animal_release(
        actor=curator, animal=rescued, released_on=timezone.localdate(), place="Playa Ostional"
    )
    wildlife.animal_register(
        actor=curator,
        habitat=tank,
        data={
            "institutional_id": "PMP-0003",
            "species": species,
            "origin": "born_here",
            "is_public": False,
        },
    )
    wildlife.weight_record(actor=curator, animal=resident, weight_kg=Decimal("12.500"))
    wildlife.medical_record_create(
        actor=administrator,
        animal=resident,
        data={"kind": "exam", "performed_on": date(2026, 1, 5), "summary": "Yearly check"},
    )
    infrastructure.water_range_set(
        habitat=tank, parameter="ph", minimum=Decimal("7.800"), maximum=Decimal("8.400")
    )
    infrastructure.water_reading_record(
        actor=administrator,
        habitat=tank,
        taken_at=timezone.now() - timedelta(hours=1),
        values={"ph": Decimal("7.100"), "temperature": Decimal("-1.500")},
    )
    ticket_type = TicketTypeFactory()
    tickets.schedule_create(
        data={
            "name": "Every day",
            "valid_from": timezone.localdate(),
            "weekdays": list(range(7)),
            "opens_at": time(0, 0),
            "closes_at": time(23, 30),
            "slot_minutes": 30,
            "capacity_per_slot": 50,
        }
    )
    tickets.slots_generate(start=timezone.localdate(), days=3, actor=administrator)
    tickets.closure_create(
        actor=administrator, day=timezone.localdate() + timedelta(days=30), reason="Maintenance"
    )
    slot = TimeSlot.objects.filter(ends_at__gt=timezone.now()).order_by("starts_at").first()
    place_order(visitor, slot, ticket_type)
    paid = paid_order(visitor, slot, ticket_type, quantity=2)
    invoicing.invoice_issue(order_id=paid.pk)
    educator = staff_member(Role.EDUCATOR)
    guide = Instructor.objects.create(user=educator, bio_es="Bióloga marina")
    workshop = ProgramFactory(price=Decimal("4000.00"), min_age=None, max_age=None)
    tour = ProgramFactory(price=Decimal("0.00"), min_age=None, max_age=None)
    ProgramFactory(is_public=False)
    paid_session = education.session_create(
        actor=educator,
        program=workshop,
        starts_at=timezone.now() + timedelta(days=5),
        habitat=tank,
        instructors=[guide],
    )
    free_session = education.session_create(
        actor=educator,
        program=tour,
        starts_at=timezone.now() + timedelta(days=6),
        section=section,
    )
    education.enrollment_create(
        actor=visitor, session=free_session, participants=[{"name": "Ana", "age": 9}]
    )
    education.enrollment_create(
        actor=visitor, session=paid_session, participants=[{"name": "Luis", "age": 11}]
    )
    turtles = Campaign.objects.create(
        slug="tortugas",
        title_es="Tortugas",
        goal=Decimal("100000.00"),
        starts_at=timezone.now() - timedelta(days=1),
        is_public=True,
    )
    Campaign.objects.create(
        slug="borrador", title_es="Borrador", goal=Decimal("1.00"), starts_at=timezone.now()
    )
    gift = payments.order_create(
        actor=visitor,
        lines=[
            LineRequest(
                kind="donation", quantity=1, fields={"amount": "1000.00", "campaign": turtles.pk}
            )
        ],
    )
    payments.order_pay(order=gift, actor=visitor, method="sandbox")
    picture = exhibitions.image_create(actor=administrator, file=_png(), alt_text_es="Agua")
    reef = exhibitions.exhibition_create(
        actor=administrator,
        data={
            "slug": "arrecife",
            "title_es": "Arrecife",
            "opens_on": date(2026, 1, 1),
            "hero_image": picture,
            "species": [species],
            "section": section,
            "habitat": tank,
            "body_es": [
                {"type": "rich_text", "value": "<p>Peces</p>"},
                {"type": "species_card", "value": {"species": species.pk, "note": ""}},
                {"type": "image", "value": {"image": picture.pk, "alt_text": "Agua"}},
            ],
        },
    )
    exhibitions.exhibition_publish(actor=administrator, exhibition=reef)
    exhibitions.exhibition_update(actor=administrator, exhibition=reef, data={"title_es": "Nuevo"})
    exhibitions.exhibition_create(
        actor=administrator,
        data={"slug": "borrador", "title_es": "B", "opens_on": date(2027, 1, 1)},
    )
    permits = documents.folder_create(
        actor=administrator,
        data={"name": "Permisos", "roles": list(Group.objects.filter(name=Role.CURATOR))},
    )
    public = documents.folder_create(
        actor=administrator, data={"name": "Público", "is_public": True}
    )
    documents.folder_create(actor=administrator, data={"name": "Vacía", "parent": public})
    for folder, title in ((permits, "Permiso CITES"), (public, "Reglamento")):
        document = documents.document_create(
            actor=administrator,
            folder=folder,
            title=title,
            file=SimpleUploadedFile("doc.pdf", b"%PDF-1.4\n%%EOF\n"),
            data={"tags": ["cites"], "animals": [resident], "habitats": [tank]},
        )
        documents.version_add(
            actor=administrator,
            document=document,
            file=SimpleUploadedFile("doc-2.pdf", b"%PDF-1.4\n% 2\n%%EOF\n"),
        )
        documents.share_link_create(
            actor=administrator, document=document, expires_in_hours=2, max_downloads=1
        )
