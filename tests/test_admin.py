"""The back office: users are searchable and filterable."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

pytestmark = pytest.mark.django_db

NEXT_CHRISTMAS = datetime.date(timezone.localdate().year + 1, 12, 25)


def test_user_changelist_search_and_filter(client, administrator, user):
    client.force_login(administrator)
    response = client.get("/admin/security/user/", {"q": user.email, "is_staff__exact": "0"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert list(response.context["cl"].result_list) == [user]


def test_user_add_page_uses_email(client, administrator):
    client.force_login(administrator)
    response = client.get("/admin/security/user/add/")
    assert response.status_code == 200
    assert list(response.context["adminform"].form.fields)[:2] == ["email", "first_name"]


def test_admin_requires_staff(client, user):
    client.force_login(user)
    response = client.get("/admin/security/user/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_only_a_superuser_can_make_a_superuser(client, administrator, user):
    client.force_login(administrator)
    response = client.get(f"/admin/security/user/{user.pk}/change/")
    form_fields = response.context["adminform"].form.fields
    assert "is_superuser" not in form_fields
    assert "user_permissions" not in form_fields
    assert "groups" in form_fields


@pytest.mark.parametrize("superuser", [False, True])
def test_nobody_changes_their_own_roles_in_the_back_office(client, administrator, superuser):
    administrator.is_superuser = superuser
    administrator.save()
    client.force_login(administrator)
    page = f"/admin/security/user/{administrator.pk}/change/"
    form_fields = client.get(page).context["adminform"].form.fields
    assert {"groups", "is_superuser", "is_staff", "user_permissions"} & set(form_fields) == set()
    finance = Group.objects.get(name="finance")
    response = client.post(
        page,
        {
            "email": administrator.email,
            "first_name": "Ana",
            "last_name": "",
            "phone": "",
            "preferred_language": "es",
            "is_active": "on",
            "groups": [finance.pk],
        },
    )
    assert response.status_code == 302
    administrator.refresh_from_db()
    assert administrator.first_name == "Ana"
    assert list(administrator.groups.values_list("name", flat=True)) == ["administrator"]


def test_security_and_audit_records_are_in_the_back_office(client, administrator):
    administrator.is_superuser = True
    administrator.save()
    client.force_login(administrator)
    for url in (
        "/admin/audit/auditevent/",
        "/admin/audit/auditchainhead/",
        "/admin/security/refreshtokenrotation/",
        "/admin/token_blacklist/outstandingtoken/",
        "/admin/axes/accessattempt/",
    ):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize(
    "url",
    [
        "/admin/infrastructure/section/?q=Arrecife&is_public__exact=1",
        "/admin/infrastructure/habitat/?q=Tank&kind__exact=tank",
        "/admin/infrastructure/waterreading/?q=Tank",
        "/admin/infrastructure/wateralert/?parameter__exact=ph",
        "/admin/wildlife/conservationstatus/?q=EN",
        "/admin/wildlife/species/?q=pez&conservation_status__id__exact=1",
        "/admin/wildlife/animal/?q=PMP&status__exact=in_collection",
        "/admin/wildlife/animallocation/",
        "/admin/wildlife/weight/",
        "/admin/wildlife/medicalrecord/?kind__exact=exam",
    ],
)
def test_collection_models_are_searchable_in_the_back_office(client, administrator, url):
    from tests.factories import AnimalFactory

    AnimalFactory()
    administrator.is_superuser = True
    administrator.save()
    client.force_login(administrator)
    assert client.get(url).status_code == 200


def test_records_of_the_collection_are_read_only(client, administrator):
    """Locations are written by the workflows only; a water reading is recorded through its
    service (tests/infrastructure/test_admin.py) and never changed afterwards."""
    from decimal import Decimal

    from django.utils import timezone

    from apps.business.infrastructure import services as infrastructure
    from tests.factories import HabitatFactory

    administrator.is_superuser = True
    administrator.save()
    reading = infrastructure.water_reading_record(
        actor=administrator,
        habitat=HabitatFactory(),
        taken_at=timezone.now(),
        values={"ph": Decimal("8.1")},
    )
    client.force_login(administrator)
    assert client.get("/admin/wildlife/animallocation/add/").status_code == 403
    page = client.get(f"/admin/infrastructure/waterreading/{reading.pk}/change/")
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert 'name="_save"' not in page.content.decode()


def slot_on_sale():
    """A slot of today, on sale now. Not made by ``TimeSlotFactory``: each of its slots moves
    the next ones on (a day per ten), and other tests count on their slot being today's."""
    import datetime

    from django.utils import timezone

    from apps.business.tickets.models import TimeSlot

    starts_at = timezone.localtime().replace(minute=0, second=0, microsecond=0)
    return TimeSlot.objects.create(
        date=starts_at.date(),
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(hours=2),
        capacity=60,
    )


@pytest.fixture
def sales_records(administrator):
    """A row for every list of tickets and payments, made through the services: a paid order
    of two tickets (one checked in), a cancelled and refunded order, a closure, a schedule and
    a stored webhook."""
    import datetime

    from django.utils import timezone

    from apps.business.payments import services as payments
    from apps.business.payments.handlers import LineRequest
    from apps.business.payments.models import WebhookEvent
    from apps.business.tickets import services as tickets
    from apps.business.tickets.models import CheckIn, OpeningSchedule
    from tests.factories import TicketTypeFactory

    slot, ticket_type = slot_on_sale(), TicketTypeFactory()

    def paid_order(quantity):
        line = LineRequest(
            kind="ticket",
            quantity=quantity,
            fields={"slot": slot.pk, "ticket_type": ticket_type.pk},
        )
        order = payments.order_create(actor=administrator, lines=[line])
        payments.order_pay(order=order, actor=administrator, method="sandbox")
        return order

    order = paid_order(2)
    payments.order_cancel(order=paid_order(1), actor=administrator)
    CheckIn.objects.create(
        ticket=order.tickets.first(),
        gate="Norte",
        checked_in_at=timezone.now(),
        checked_in_by=administrator,
    )
    tickets.closure_create(actor=administrator, day=NEXT_CHRISTMAS, reason="Cierre por Navidad")
    OpeningSchedule.objects.create(
        name="Horario regular",
        valid_from=datetime.date(2026, 1, 1),
        opens_at=datetime.time(9),
        closes_at=datetime.time(16, 30),
        capacity_per_slot=85,
    )
    WebhookEvent.objects.create(
        gateway="sandbox",
        event_id="evt_0",
        event_type="payment.succeeded",
        gateway_reference=order.payments.get().gateway_reference,
        body="{}",
    )
    return order


@pytest.mark.parametrize(
    ("url", "count"),
    [
        ("/admin/tickets/tickettype/?q=Adulto&is_active__exact=1", 1),
        ("/admin/tickets/openingschedule/?q=Horario&valid_from__gte=2026-01-01", 1),
        (f"/admin/tickets/closure/?q=Navidad&date__gte={NEXT_CHRISTMAS.year}-01-01", 1),
        (f"/admin/tickets/timeslot/?q={NEXT_CHRISTMAS}&is_closed__exact=0", 0),
        ("/admin/tickets/reservation/?q=root@parquemarino&status__exact=confirmed", 1),
        ("/admin/tickets/ticket/?q=root@parquemarino&status__exact=valid", 2),
        ("/admin/tickets/ticket/?q=root@parquemarino&status__exact=void", 1),
        ("/admin/tickets/checkin/?q=Norte&gate__exact=Norte", 1),
        ("/admin/payments/order/?q=root@parquemarino&status__exact=paid&channel__exact=online", 1),
        ("/admin/payments/orderline/?q=Adulto&kind__exact=ticket&order__status__exact=paid", 1),
        ("/admin/payments/payment/?q=sbx_pay&method__exact=sandbox&status__exact=succeeded", 1),
        ("/admin/payments/refund/?q=sbx_ref&status__exact=succeeded", 1),
        ("/admin/payments/webhookevent/?q=evt_0&status__exact=received&gateway__exact=sandbox", 1),
    ],
)
def test_tickets_and_payments_are_searchable_in_the_back_office(
    back_office, sales_records, url, count
):
    response = back_office.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count == count


def test_slots_are_found_by_their_date_in_the_back_office(back_office):

    slot = slot_on_sale()
    response = back_office.get("/admin/tickets/timeslot/", {"q": slot.date.isoformat()})
    assert list(response.context["cl"].result_list) == [slot]


@pytest.mark.parametrize(
    "model",
    [
        "payments/order",
        "payments/orderline",
        "payments/payment",
        "payments/refund",
        "payments/webhookevent",
        "tickets/timeslot",
        "tickets/reservation",
        "tickets/ticket",
        "tickets/checkin",
    ],
)
def test_sales_records_are_read_only_in_the_back_office(back_office, model):
    assert back_office.get(f"/admin/{model}/add/").status_code == 403


def test_an_order_shows_its_lines_payments_and_tickets_read_only(back_office, sales_records):
    from apps.business.payments.models import Order

    response = back_office.get(f"/admin/payments/order/{sales_records.pk}/change/")
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert [
        (inline.opts.model.__name__, len(inline.formset.forms))
        for inline in response.context["inline_admin_formsets"]
    ] == [("OrderLine", 1), ("Payment", 1), ("Ticket", 2)]
    response = back_office.post(
        f"/admin/payments/order/{sales_records.pk}/change/", {"status": "canceled"}
    )
    assert response.status_code == 403
    assert Order.objects.get(pk=sales_records.pk).status == "paid"


def test_webhook_events_can_be_processed_again_from_the_back_office(back_office):
    from apps.business.payments.models import WebhookEvent

    event = WebhookEvent.objects.create(
        gateway="sandbox",
        event_id="evt_1",
        event_type="payment.succeeded",
        gateway_reference="sbx_pay_unknown",
        body='{"id":"evt_1","type":"payment.succeeded","payment":"sbx_pay_unknown"}',
    )
    response = back_office.post(
        "/admin/payments/webhookevent/",
        {"action": "process_again", "_selected_action": [event.pk]},
        follow=True,
    )
    assert response.status_code == 200
    event.refresh_from_db()
    assert (event.status, event.last_error) == ("failed", "no payment with this reference")
    assert [str(message) for message in response.context["messages"]] == [
        "Se procesó de nuevo 1 evento (Fallido: 1)."
    ]


def test_a_closure_added_in_the_back_office_closes_the_slots_of_its_day(back_office):
    from apps.business.tickets.models import Closure
    from apps.support.audit.models import AuditEvent

    slot = slot_on_sale()
    response = back_office.post(
        "/admin/tickets/closure/add/",
        {"date": slot.date.isoformat(), "reason": "Mantenimiento de tanques"},
    )
    assert response.status_code == 302
    closure = Closure.objects.get()
    assert (closure.date, closure.reason) == (slot.date, "Mantenimiento de tanques")
    slot.refresh_from_db()
    assert slot.is_closed is True
    event = AuditEvent.objects.get(action="tickets.closure.created")
    assert event.target_id == str(closure.pk)
    assert event.metadata["slots_closed"] == 1


def test_a_closure_deleted_in_the_back_office_reopens_its_day_and_is_never_changed(
    back_office, administrator
):
    from apps.business.tickets import services
    from apps.business.tickets.models import Closure
    from apps.support.audit.models import AuditEvent

    slot = slot_on_sale()
    closure = services.closure_create(actor=administrator, day=slot.date, reason="Lluvias")
    url = f"/admin/tickets/closure/{closure.pk}/"
    response = back_office.get("/admin/tickets/closure/")
    assert response.context["action_form"] is None  # no bulk delete: it would skip reopening
    assert back_office.post(f"{url}change/", {"reason": "Otra"}).status_code == 403
    assert Closure.objects.get().reason == "Lluvias"
    assert back_office.post(f"{url}delete/", {"post": "yes"}).status_code == 302
    assert Closure.objects.exists() is False
    slot.refresh_from_db()
    assert slot.is_closed is False
    assert AuditEvent.objects.filter(action="tickets.closure.deleted").count() == 1


def test_failed_refunds_are_tried_again_from_the_back_office(back_office, monkeypatch):
    from apps.business.payments import services as payments
    from apps.business.payments.models import Refund
    from apps.integrations.payments import RefundOutcome, RefundResult
    from apps.integrations.payments.sandbox import SandboxGateway
    from apps.support.security.roles import Role
    from tests.factories import TicketTypeFactory, UserFactory
    from tests.helpers import staff_member
    from tests.sales import paid_order

    order = paid_order(UserFactory(), slot_on_sale(), TicketTypeFactory(), 1)
    refuse = RefundResult(outcome=RefundOutcome.FAILED, gateway_reference="", failure_message="x")
    monkeypatch.setattr(SandboxGateway, "refund", lambda self, **kwargs: refuse)
    refund = payments.refund_request(order=order, actor=staff_member(Role.FINANCE))
    assert refund.status == "failed"
    monkeypatch.undo()
    response = back_office.post(
        "/admin/payments/refund/",
        {"action": "try_again", "_selected_action": [refund.pk]},
        follow=True,
    )
    assert response.status_code == 200
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == ("succeeded", 2)
    assert Refund.objects.count() == 1


def test_slot_labels_in_the_back_office_are_in_the_parks_time(back_office, administrator):
    """A 10:00 slot is "10:00" in the lists (it was its UTC time, 16:00 in Costa Rica)."""
    from zoneinfo import ZoneInfo

    from apps.business.infrastructure.models import WaterReading
    from apps.business.tickets.models import TimeSlot
    from tests.factories import HabitatFactory, TicketTypeFactory, UserFactory
    from tests.sales import paid_order

    park = ZoneInfo("America/Costa_Rica")
    starts_at = datetime.datetime(NEXT_CHRISTMAS.year, 12, 24, 10, 0, tzinfo=park)
    slot = TimeSlot.objects.create(
        date=starts_at.date(),
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(hours=2),
        capacity=60,
    )
    assert str(slot) == f"{NEXT_CHRISTMAS.year}-12-24 10:00"
    paid_order(UserFactory(), slot, TicketTypeFactory(name_es="Adulto", name_en="Adulto"), 1)
    response = back_office.get("/admin/tickets/ticket/")
    assert [str(ticket) for ticket in response.context["cl"].result_list] == [
        f"Adulto {NEXT_CHRISTMAS.year}-12-24 10:00 ({ticket.secret[:6]}…)"
        for ticket in response.context["cl"].result_list
    ]
    assert f"{NEXT_CHRISTMAS.year}-12-24 10:00" in response.content.decode()
    assert f"{NEXT_CHRISTMAS.year}-12-24 16:00" not in response.content.decode()
    reading = WaterReading.objects.create(
        habitat=HabitatFactory(name="Arrecife"),
        taken_at=datetime.datetime(2026, 3, 1, 7, 30, tzinfo=park),
        temperature="25.0",
        taken_by=administrator,
    )
    assert str(reading) == "Arrecife @ 2026-03-01 07:30"


@pytest.mark.parametrize(
    ("language", "header", "index_title"),
    [
        ("en", "Parque Marino back office", "Park operations"),
        ("es", "Administración de Parque Marino", "Operación del parque"),
    ],
)
def test_the_back_office_carries_the_parks_name(
    back_office, administrator, language, header, index_title
):
    # The staff member's profile decides the language, not the browser (docs/adr/0049).
    administrator.preferred_language = language
    administrator.save(update_fields=["preferred_language"])
    response = back_office.get("/admin/", HTTP_ACCEPT_LANGUAGE="es" if language == "en" else "en")
    assert response.status_code == 200
    assert (
        str(response.context["site_header"]),
        str(response.context["site_title"]),
        str(response.context["title"]),
    ) == (header, header, index_title)
    html = response.content.decode()
    assert f"<title>{index_title} | {header}</title>" in html
    assert "Django" not in html


def test_sign_in_and_token_records_are_for_superusers_only(client, administrator):
    """An administrator (the role, not a superuser) sees neither Axes' records nor the
    token blacklist, even holding their permissions (a superuser may have granted them); a
    superuser sees both (test_security_and_audit_records_...)."""
    from django.contrib.auth.models import Permission

    administrator.user_permissions.add(
        *Permission.objects.filter(content_type__app_label__in=["axes", "token_blacklist"])
    )
    client.force_login(administrator)
    apps = [app["app_label"] for app in client.get("/admin/").context["app_list"]]
    assert {"axes", "token_blacklist"} & set(apps) == set()
    assert "security" in apps
    for url in (
        "/admin/axes/accessattempt/",
        "/admin/axes/accessfailurelog/",
        "/admin/axes/accesslog/",
        "/admin/token_blacklist/outstandingtoken/",
        "/admin/token_blacklist/blacklistedtoken/",
    ):
        assert client.get(url).status_code == 403, url


def test_the_ticket_office_sees_orders_but_not_payments_in_the_back_office(client, sales_records):
    """As in the API (``GET /api/v1/payments/payments/`` is finance's): the ticket office
    opens orders, without their payments, and never the list of payments."""
    from apps.support.security.roles import Role
    from tests.helpers import staff_member

    client.force_login(staff_member(Role.TICKET_OFFICE))
    assert client.get("/admin/payments/payment/").status_code == 403
    assert client.get("/admin/payments/refund/").status_code == 403
    apps = {app["app_label"]: app for app in client.get("/admin/").context["app_list"]}
    assert [model["object_name"] for model in apps["payments"]["models"]] == [
        "OrderLine",
        "Order",
    ]
    response = client.get(f"/admin/payments/order/{sales_records.pk}/change/")
    assert response.status_code == 200
    assert [inline.opts.model.__name__ for inline in response.context["inline_admin_formsets"]] == [
        "OrderLine",
        "Ticket",
    ]
    client.force_login(staff_member(Role.FINANCE))
    assert client.get("/admin/payments/payment/").status_code == 200


def test_the_orders_list_shows_what_the_ticket_office_needs(back_office, sales_records):
    response = back_office.get("/admin/payments/order/", HTTP_ACCEPT_LANGUAGE="en")
    assert list(response.context["cl"].list_display) == [
        "code",
        "status",
        "channel",
        "email",
        "amount",
        "created_at",
    ]
    paid = response.context["cl"].result_list.get(pk=sales_records.pk)
    assert response.context["cl"].model_admin.amount(paid) == "5800.00 CRC"


@pytest.mark.parametrize(
    ("status", "help_text"),
    [
        ("pending", "Unpaid, its seats stop counting at this moment."),
        ("paid", "Paid: its seats are confirmed; the hold no longer applies."),
        ("expired", "Not paid in time: its seats stopped counting at this moment."),
        ("canceled", "Cancelled: its seats were given back."),
    ],
)
def test_an_orders_page_explains_its_hold_by_its_status(
    back_office, administrator, sales_records, status, help_text
):
    from apps.business.payments.models import Order

    administrator.preferred_language = "en"
    administrator.save(update_fields=["preferred_language"])
    Order.objects.filter(pk=sales_records.pk).update(status=status)
    response = back_office.get(
        f"/admin/payments/order/{sales_records.pk}/change/", HTTP_ACCEPT_LANGUAGE="en"
    )
    help_texts = {
        field.field["name"]: str(field.field["help_text"])
        for fieldset in response.context["adminform"]
        for line in fieldset
        for field in line
    }
    assert help_texts["expires_at"] == help_text
    others = {
        text
        for text in (
            "Unpaid, its seats stop counting at this moment.",
            "Paid: its seats are confirmed; the hold no longer applies.",
            "Not paid in time: its seats stopped counting at this moment.",
            "Cancelled: its seats were given back.",
        )
        if text != help_text
    }
    html = response.content.decode()
    assert [text for text in others if text in html] == []
