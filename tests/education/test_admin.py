"""The education back office: lists, searches and filters; sessions scheduled, changed and
cancelled through the services (double bookings refused on the form); enrollments read-only
records, cancelled through the service."""

import io
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from apps.business.education import services
from apps.business.education.models import Enrollment, Instructor, Program, Session
from apps.business.payments import services as payments
from apps.business.payments.models import Refund
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.factories import HabitatFactory, ProgramFactory, SectionFactory, UserFactory
from tests.helpers import staff_member

pytestmark = pytest.mark.django_db

SESSIONS = "/admin/education/session/"
ENROLLMENTS = "/admin/education/enrollment/"


def ten_in_a_week(hours: int = 0) -> datetime:
    start = timezone.localtime() + timedelta(days=7)
    return start.replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(hours=hours)


def instructor(first_name: str) -> Instructor:
    educator = staff_member(Role.EDUCATOR, first_name=first_name, last_name="Solano")
    return services.instructor_create(user=educator, data={"specialties": ["tortugas"]})


@pytest.fixture
def park(administrator):
    """A turtle tour (free) and a paid workshop, each with a session a week ahead in its own
    habitat; a family confirmed in the tour, a school paid in the workshop."""
    tour = ProgramFactory(
        slug="tortugas",
        title_es="Tortugas marinas",
        title_en="Sea turtles",
        audience="families",
        price=Decimal("0"),
        min_age=None,
        max_age=None,
    )
    workshop = ProgramFactory(slug="biologia", title_es="Biología marina", audience="schools")
    marina = instructor("Marina")
    tour_session = services.session_create(
        actor=administrator,
        program=tour,
        starts_at=ten_in_a_week(),
        habitat=HabitatFactory(name="Piscina de Tortugas"),
        instructors=[marina],
    )
    workshop_session = services.session_create(
        actor=administrator,
        program=workshop,
        starts_at=ten_in_a_week(),
        habitat=HabitatFactory(name="Laguna de Rayas"),
    )
    parent = UserFactory(email="familia.mora@example.org")
    family = services.enrollment_create(
        actor=parent,
        session=tour_session,
        participants=[{"name": "Ana Mora", "age": 9}, {"name": "Carmen Mora", "role": "guardian"}],
    )
    teacher = UserFactory(email="maestra@escuela.example")
    school = services.enrollment_create(
        actor=teacher,
        session=workshop_session,
        participants=[{"name": f"Estudiante {n}", "age": 10, "role": "student"} for n in range(3)],
        school_name="Escuela Puntarenas",
    )
    payments.order_pay(order=school.order, actor=teacher, method="sandbox")
    school.refresh_from_db()
    assert (family.status, school.status) == ("confirmed", "confirmed")
    return {
        "tour": tour,
        "workshop": workshop,
        "marina": marina,
        "tour_session": tour_session,
        "workshop_session": workshop_session,
        "family": family,
        "school": school,
    }


def test_lists_search_and_filter(back_office, park):
    tour, workshop = park["tour"], park["workshop"]
    school = park["school"]
    cases = [
        ("/admin/education/program/?q=Tortugas&audience__exact=families&is_public__exact=1", 1),
        ("/admin/education/program/?q=biologia&audience__exact=families", 0),
        (f"/admin/education/instructor/?q={park['marina'].user.email}&is_active__exact=1", 1),
        ("/admin/education/instructor/?q=Solano&is_active__exact=0", 0),
        (f"{SESSIONS}?q=Tortugas&status__exact=scheduled", 1),
        (f"{SESSIONS}?program__id__exact={workshop.pk}&status__exact=scheduled", 1),
        (f"{SESSIONS}?status__exact=cancelled", 0),
        (f"{ENROLLMENTS}?q=familia.mora&status__exact=confirmed", 1),
        (f"{ENROLLMENTS}?q=Puntarenas&session__program__id__exact={workshop.pk}", 1),
        (f"{ENROLLMENTS}?q=Carmen+Mora&session__program__id__exact={tour.pk}", 1),
        (f"{ENROLLMENTS}?q={school.order.code}", 1),
        (f"{ENROLLMENTS}?q=Estudiante&status__exact=cancelled", 0),
    ]
    for url, count in cases:
        response = back_office.get(url)
        assert response.status_code == 200, url
        assert response.context["cl"].result_count == count, url
    # One row per enrollment, however many of its participants match.
    response = back_office.get(ENROLLMENTS, {"q": "Estudiante"})
    assert list(response.context["cl"].result_list) == [school]
    day = timezone.localtime(park["tour_session"].starts_at)
    response = back_office.get(
        SESSIONS, {"starts_at__year": day.year, "starts_at__month": day.month}
    )
    assert response.context["cl"].result_count == 2


def test_pages_render_and_records_are_read_only(back_office, park):
    for url in (
        "/admin/education/program/add/",
        f"/admin/education/program/{park['tour'].pk}/change/",
        "/admin/education/instructor/add/",
        f"/admin/education/instructor/{park['marina'].pk}/change/",
        f"{SESSIONS}add/",
        f"{SESSIONS}{park['tour_session'].pk}/change/",
        f"{ENROLLMENTS}{park['school'].pk}/change/",
    ):
        assert back_office.get(url).status_code == 200, url
    assert back_office.get(f"{ENROLLMENTS}add/").status_code == 403
    assert back_office.get(f"{SESSIONS}{park['tour_session'].pk}/delete/").status_code == 403
    assert back_office.get(f"/admin/education/program/{park['tour'].pk}/delete/").status_code == 403


def test_a_session_shows_its_bookings_and_enrollments_read_only(back_office, park):
    response = back_office.get(f"{SESSIONS}{park['tour_session'].pk}/change/")
    assert [
        (inline.opts.model.__name__, len(inline.formset.forms), inline.has_change_permission)
        for inline in response.context["inline_admin_formsets"]
    ] == [("SessionInstructor", 1, False), ("Enrollment", 1, False)]


def test_an_enrollment_is_a_record_with_no_save(back_office, park):
    school = park["school"]
    url = f"{ENROLLMENTS}{school.pk}/change/"
    response = back_office.get(url)
    assert response.context["has_change_permission"] is False
    assert b'name="_save"' not in response.content
    assert [
        (inline.opts.model.__name__, len(inline.formset.forms))
        for inline in response.context["inline_admin_formsets"]
    ] == [("Participant", 3)]
    assert back_office.post(url, {"status": "cancelled", "seats": "1"}).status_code == 403
    school.refresh_from_db()
    assert (school.status, school.seats) == ("confirmed", 3)


def cancel(client, url: str, action: str, rows, reason: str = "Marea roja"):
    return client.post(
        url,
        {"action": action, "_selected_action": [row.pk for row in rows], "reason": reason},
        follow=True,
    )


def audited(action: str, actor, rows):
    """The audit entries of ``action``: one per row, by ``actor``, with the reason typed."""
    events = AuditEvent.objects.filter(action=action)
    assert sorted(events.values_list("target_id", "actor_id", "metadata__reason")) == sorted(
        (str(row.pk), actor.pk, "Marea roja") for row in rows
    )
    return events


def levels(response) -> list[int]:
    return [message.level for message in response.context["messages"]]


def test_cancelling_sessions_goes_through_the_service(back_office, park, administrator):
    tour_session, workshop_session = park["tour_session"], park["workshop_session"]
    response = cancel(back_office, SESSIONS, "cancel_sessions", [tour_session, workshop_session])
    assert response.status_code == 200
    assert levels(response) == [messages.SUCCESS]
    for session in (tour_session, workshop_session):
        session.refresh_from_db()
        assert (session.status, session.cancel_reason, session.confirmed) == (
            "cancelled",
            "Marea roja",
            0,
        )
    assert sorted(Enrollment.objects.values_list("status", "cancel_reason")) == [
        ("cancelled", "session cancelled"),
        ("cancelled", "session cancelled"),
    ]
    assert list(park["tour_session"].instructor_bookings.values_list("is_active", flat=True)) == [
        False
    ]
    # The school's seats were refunded through the gateway.
    assert list(Refund.objects.values_list("amount", "status")) == [
        (Decimal("15000.00"), "succeeded")
    ]
    events = audited("education.session.cancelled", administrator, [tour_session, workshop_session])
    # Cancelled sessions are read-only, and are not cancelled twice.
    page = back_office.get(f"{SESSIONS}{tour_session.pk}/change/")
    assert page.context["has_change_permission"] is False
    again = cancel(back_office, SESSIONS, "cancel_sessions", [tour_session])
    assert levels(again) == [messages.ERROR]
    assert events.count() == 2


def test_a_cancellation_needs_a_reason(back_office, park):
    session = park["tour_session"]
    response = cancel(back_office, SESSIONS, "cancel_sessions", [session], reason="  ")
    assert levels(response) == [messages.ERROR]
    session.refresh_from_db()
    assert session.status == "scheduled"
    assert not AuditEvent.objects.filter(action="education.session.cancelled").exists()


def test_cancelling_enrollments_goes_through_the_service(back_office, park, administrator):
    family, school = park["family"], park["school"]
    response = cancel(back_office, ENROLLMENTS, "cancel_enrollments", [family, school])
    assert levels(response) == [messages.SUCCESS]
    for enrollment in (family, school):
        enrollment.refresh_from_db()
        assert (enrollment.status, enrollment.seats) == ("cancelled", 0)
    for session in (park["tour_session"], park["workshop_session"]):
        session.refresh_from_db()
        assert (session.status, session.confirmed) == ("scheduled", 0)
    assert list(Refund.objects.values_list("amount", "status")) == [
        (Decimal("15000.00"), "succeeded")
    ]
    audited("education.enrollment.cancelled", administrator, [family, school])


def test_only_the_education_department_cancels_from_the_back_office(client, park):
    finance = staff_member(Role.FINANCE)
    client.force_login(finance)
    for url in (SESSIONS, ENROLLMENTS):
        response = client.get(url)
        assert response.status_code == 200
        assert response.context["action_form"] is None, url
    cancel(client, ENROLLMENTS, "cancel_enrollments", [park["family"]])
    park["family"].refresh_from_db()
    assert park["family"].status == "confirmed"


def session_form(program: Program, starts_at: datetime, **fields) -> dict:
    local = timezone.localtime(starts_at)
    data = {
        "program": program.pk,
        "starts_at_0": local.date().isoformat(),
        "starts_at_1": local.strftime("%H:%M:%S"),
        "ends_at_0": "",
        "ends_at_1": "",
        "section": "",
        "habitat": "",
        "leading_instructors": [],
        "capacity": "",
        "enrollment_deadline_0": "",
        "enrollment_deadline_1": "",
    }
    return data | fields


def test_a_session_scheduled_in_the_back_office_goes_through_the_service(
    back_office, park, administrator
):
    starts_at = ten_in_a_week(hours=2)
    habitat = park["tour_session"].habitat
    response = back_office.post(
        f"{SESSIONS}add/",
        session_form(
            park["tour"], starts_at, habitat=habitat.pk, leading_instructors=[park["marina"].pk]
        ),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    session = Session.objects.get(starts_at=starts_at)
    # The service's defaults: the program's duration, capacity and enrolment deadline.
    assert (session.ends_at, session.capacity, session.enrollment_deadline) == (
        starts_at + timedelta(minutes=90),
        30,
        starts_at - timedelta(hours=24),
    )
    assert list(session.instructor_bookings.values_list("instructor", "starts_at")) == [
        (park["marina"].pk, starts_at)
    ]
    event = AuditEvent.objects.get(action="education.session.created", target_id=str(session.pk))
    assert (event.actor_id, event.metadata["instructors"]) == (
        administrator.pk,
        [park["marina"].pk],
    )


def refused(response, field: str) -> list[str]:
    """The form shown again with an error on ``field``, the error on the page."""
    assert response.status_code == 200
    form = response.context["adminform"].form
    errors = form.errors.get(field, [])
    assert errors, form.errors
    for error in errors:
        assert error.replace("'", "&#x27;") in response.content.decode()
    return errors


@pytest.mark.parametrize("clash", ["place", "instructor"])
def test_a_double_booked_session_is_refused_on_the_form(back_office, park, clash):
    tour_session = park["tour_session"]
    marina = park["marina"]
    starts_at = tour_session.starts_at + timedelta(minutes=30)  # overlaps the tour
    place = (
        {"habitat": tour_session.habitat.pk}
        if clash == "place"
        else {"section": SectionFactory().pk}  # elsewhere: only Marina clashes
    )
    before = (Session.objects.count(), AuditEvent.objects.count())
    response = back_office.post(
        f"{SESSIONS}add/",
        session_form(park["workshop"], starts_at, leading_instructors=[marina.pk], **place),
    )
    refused(response, NON_FIELD_ERRORS if clash == "place" else "leading_instructors")
    assert (Session.objects.count(), AuditEvent.objects.count()) == before


def test_a_session_is_refused_without_exactly_one_place(back_office, park):
    response = back_office.post(f"{SESSIONS}add/", session_form(park["tour"], ten_in_a_week(5)))
    refused(response, "habitat")
    assert Session.objects.count() == 2


def change_form(response) -> dict:
    """What the browser posts back from a session's change page: its fields and the
    management forms of the read-only inlines."""
    form = response.context["adminform"].form
    data: dict[str, object] = {}
    for name, field in form.fields.items():
        value = form[name].value()
        widget = field.widget
        if hasattr(widget, "decompress"):
            local = timezone.localtime(value)
            data[f"{name}_0"], data[f"{name}_1"] = local.date().isoformat(), local.strftime("%X")
        elif isinstance(value, list):
            data[name] = [getattr(item, "pk", item) for item in value]
        else:
            data[name] = "" if value is None else value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for row in formset.initial_forms:
            data[row.add_prefix("id")] = row.instance.pk
    return data


def test_a_session_changed_in_the_back_office_goes_through_the_service(back_office, park):
    session = park["workshop_session"]
    url = f"{SESSIONS}{session.pk}/change/"
    later = session.starts_at + timedelta(days=1)
    data = change_form(back_office.get(url))
    local = timezone.localtime(later)
    data["starts_at_0"] = local.date().isoformat()
    data["leading_instructors"] = [park["marina"].pk]
    response = back_office.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    session.refresh_from_db()
    assert (session.starts_at, session.ends_at) == (later, later + timedelta(minutes=90))
    assert list(session.instructor_bookings.values_list("instructor", "starts_at")) == [
        (park["marina"].pk, later)
    ]
    event = AuditEvent.objects.get(action="education.session.changed", target_id=str(session.pk))
    assert event.changes["instructors"] == [[], [park["marina"].pk]]


def test_a_change_that_double_books_or_shrinks_below_the_seats_taken_is_refused(back_office, park):
    session = park["workshop_session"]
    url = f"{SESSIONS}{session.pk}/change/"
    data = change_form(back_office.get(url))
    # Marina leads the tour at that very time.
    refused(
        back_office.post(url, data | {"leading_instructors": [park["marina"].pk]}),
        "leading_instructors",
    )
    refused(back_office.post(url, data | {"capacity": 2}), "capacity")  # 3 seats are paid
    session.refresh_from_db()
    assert (session.capacity, list(session.instructors.all())) == (30, [])
    assert not AuditEvent.objects.filter(action="education.session.changed").exists()


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), "teal").save(buffer, "PNG")
    return SimpleUploadedFile("tortuga.png", buffer.getvalue(), content_type="image/png")


def test_programs_and_instructors_are_written_through_their_services(back_office, administrator):
    data = {
        "slug": "cuidador-por-un-dia",
        "title_es": "Cuidador por un día",
        "title_en": "Keeper for a day",
        "audience": "adults",
        "duration_minutes": 240,
        "price": "35000",
        "currency": "CRC",
        "min_participants": 1,
        "max_participants": 6,
        "is_public": "on",
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
    }
    response = back_office.post("/admin/education/program/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    program = Program.objects.get(slug="cuidador-por-un-dia")
    assert (program.price, program.max_participants) == (Decimal("35000.00"), 6)
    # Pictures in the gallery inline, checked by their content as the API checks them.
    change = f"/admin/education/program/{program.pk}/change/"
    picture = {
        "images-TOTAL_FORMS": "1",
        "images-0-alt_text_es": "Cuidando tortugas",
        "images-0-display_order": "0",
    }
    gif = io.BytesIO()
    Image.new("RGB", (8, 6), "teal").save(gif, "GIF")  # a picture, of a format not shown
    not_allowed = SimpleUploadedFile("x.png", gif.getvalue(), content_type="image/png")
    refused = back_office.post(change, data | picture | {"images-0-image": not_allowed})
    assert refused.status_code == 200
    assert [f.errors for f in refused.context["inline_admin_formsets"][0].formset] == [
        {"image": ["El archivo no es una imagen JPEG, PNG o WebP."]}
    ]
    assert program.images.count() == 0
    added = back_office.post(change, data | picture | {"images-0-image": png()})
    assert added.status_code == 302, [
        f.errors for f in added.context["inline_admin_formsets"][0].formset
    ] + [added.context["adminform"].form.errors]
    assert list(program.images.values_list("alt_text_es", "width")) == [("Cuidando tortugas", 8)]
    assert AuditEvent.objects.filter(
        action="education.program.created", target_id=str(program.pk)
    ).exists()
    # The model's rules, as the service checks them: one slug per program, and a minimum
    # no greater than the maximum.
    again = back_office.post("/admin/education/program/add/", data | {"min_participants": 7})
    assert again.status_code == 200
    assert set(again.context["adminform"].form.errors) == {"slug", NON_FIELD_ERRORS}
    assert Program.objects.count() == 1

    visitor = UserFactory(email="no.educadora@example.org")
    response = back_office.post("/admin/education/instructor/add/", {"user": visitor.pk})
    assert set(response.context["adminform"].form.errors) == {"user"}  # not an educator
    educator = staff_member(Role.EDUCATOR, email="educadora@parquemarino.test")
    response = back_office.post(
        "/admin/education/instructor/add/",
        {"user": educator.pk, "specialties": '["arrecifes"]', "is_active": "on"},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Instructor.objects.get().specialties == ["arrecifes"]
    assert AuditEvent.objects.filter(action="education.instructor.created").count() == 1


def test_a_change_written_before_an_inline_refused_is_undone(back_office, park):
    """The service writes when the session's fields are clean; the inlines are checked
    after. Shown again for theirs, the page's write is rolled back."""
    session = park["workshop_session"]
    url = f"{SESSIONS}{session.pk}/change/"
    data = change_form(back_office.get(url))
    tampered = {name: value for name, value in data.items() if "TOTAL_FORMS" not in name}
    response = back_office.post(url, tampered | {"capacity": 40})
    assert response.status_code == 200
    assert response.context["adminform"].form.written is True
    session.refresh_from_db()
    assert session.capacity == 30
    assert not AuditEvent.objects.filter(action="education.session.changed").exists()
