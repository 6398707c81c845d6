"""/api/v1/tickets/: ticket types, the opening schedule, slots and availability, tickets with
their QR and PDF, check-in at the gate, attendance."""

from datetime import datetime, timedelta
from typing import Any, cast

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.conditional import CachedReadMixin
from api.ownership import OwnedObjectsMixin
from api.pagination import ReadPage, StandardPagination
from api.permissions import role_permission, signed_in_user
from api.viewsets import BaseViewSet, CatalogReadViewSet, CatalogViewSet
from apps.business.tickets import selectors, services
from apps.business.tickets.models import CheckIn
from apps.business.tickets.rendering import qr_png, qr_svg, tickets_pdf
from apps.business.tickets.signing import ticket_code
from apps.support.common import readcache
from apps.support.security.roles import COUNTER_STAFF, TICKET_STAFF, Role

from .filters import TicketFilter
from .serializers import (
    AttendanceQuery,
    AttendanceSerializer,
    CheckInInput,
    CheckInSerializer,
    ClosureSerializer,
    OpeningScheduleSerializer,
    QrQuery,
    SlotGenerateInput,
    SlotGenerateResult,
    SlotRangeQuery,
    SlotSerializer,
    SlotUpdateInput,
    TicketSerializer,
    TicketTypeSerializer,
)

# No range of days holds this many pages of slots, even one slot a page.
MAX_PAGE = 1_000_000


class TicketTypeViewSet(CatalogViewSet):
    """Price categories. Everyone reads those on sale; the ticket office sets prices.
    Ticket types are never deleted (sold tickets refer to them): take one off sale with
    ``is_active``."""

    permission_classes = [role_permission(public_read=True, write=COUNTER_STAFF)]
    every_row_roles = TICKET_STAFF
    serializer_class = TicketTypeSerializer
    filterset_fields = ("is_active",)
    ordering_fields = ("display_order", "price")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.ticket_type_list(on_sale_only=not self.sees_every_row())

    def perform_create(self, serializer: Any) -> Any:
        return services.ticket_type_create(data=serializer.validated_data)

    def perform_update(self, instance: Any, serializer: Any) -> Any:
        return services.ticket_type_update(ticket_type=instance, data=serializer.validated_data)


class OpeningScheduleViewSet(CatalogViewSet):
    """The park's opening hours and slot capacity, from which slots are generated."""

    permission_classes = [role_permission(read=(Role.FINANCE,), write=COUNTER_STAFF)]
    serializer_class = OpeningScheduleSerializer
    selector = selectors.schedule_list
    filterset_fields: tuple[str, ...] = ()
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def perform_create(self, serializer: Any) -> Any:
        return services.schedule_create(data=serializer.validated_data)

    def perform_update(self, instance: Any, serializer: Any) -> Any:
        return services.schedule_update(schedule=instance, data=serializer.validated_data)

    def perform_destroy(self, instance: Any) -> None:
        services.schedule_delete(schedule=instance)


class ClosureViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, BaseViewSet
):
    """Days the park stays closed; creating one closes that day's slots."""

    permission_classes = [role_permission(public_read=True, write=COUNTER_STAFF)]
    serializer_class = ClosureSerializer
    selector = selectors.closure_list
    http_method_names = ["get", "post", "delete", "head", "options"]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ClosureSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        closure = services.closure_create(
            actor=signed_in_user(request),
            day=data.validated_data["date"],
            reason=data.validated_data["reason"],
        )
        return Response(ClosureSerializer(closure).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.closure_delete(actor=signed_in_user(request), closure=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


_DATE, _DATETIME = serializers.DateField(), serializers.DateTimeField()


def _slot_json(row: dict[str, Any]) -> dict[str, Any]:
    """A row of ``slot_availability_rows`` as ``SlotSerializer`` writes a slot."""
    return row | {
        "date": _DATE.to_representation(row["date"]),
        "starts_at": _DATETIME.to_representation(row["starts_at"]),
        "ends_at": _DATETIME.to_representation(row["ends_at"]),
    }


def _check_in_json(check_in: CheckIn) -> dict[str, Any]:
    """A new check-in as ``CheckInSerializer`` writes it, without building that serializer's
    fields on every scan (they cost more than the rest of the answer)."""
    ticket = check_in.ticket
    checked_in_at = _DATETIME.to_representation(check_in.checked_in_at)
    return {
        "id": check_in.pk,
        "ticket": {
            "id": ticket.pk,
            "code": ticket_code(ticket.secret),
            "status": ticket.status,
            "order": ticket.order_id,
            "order_code": ticket.order.code,
            "slot": ticket.slot_id,
            "starts_at": _DATETIME.to_representation(ticket.slot.starts_at),
            "ends_at": _DATETIME.to_representation(ticket.slot.ends_at),
            "ticket_type": ticket.ticket_type_id,
            "ticket_type_name": ticket.ticket_type.name,
            "checked_in_at": checked_in_at,
        },
        "gate": check_in.gate,
        "checked_in_at": checked_in_at,
        "checked_in_by": check_in.checked_in_by.email,
    }


@extend_schema_view(
    list=extend_schema(
        parameters=[SlotRangeQuery],
        description=(
            "Availability: the slots of `date` (default today) or of `date_from`…`date_to` "
            "(at most 62 days), each with capacity, seats sold and held, seats remaining, and "
            "whether it can still be booked."
        ),
    ),
    partial_update=extend_schema(request=SlotUpdateInput, responses={200: SlotSerializer}),
)
class SlotViewSet(CachedReadMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    permission_classes = [role_permission(public_read=True, write=COUNTER_STAFF)]
    serializer_class = SlotSerializer
    filter_backends: list[Any] = []
    http_method_names = ["get", "post", "patch", "head", "options"]
    cache_namespaces = (readcache.SLOTS,)

    def cache_valid_until(
        self, request: Request, response: Response, since: datetime
    ) -> datetime | None:
        now = since
        if self.action == "retrieve":
            slot_date = response.data["date"]
            days = {"date_from": slot_date, "date_to": slot_date}
        else:
            query = SlotRangeQuery(data=request.query_params)
            query.is_valid(raise_exception=True)
            days = {name: query.validated_data[name] for name in ("date_from", "date_to")}
        # Also at midnight: a list without a date is today's.
        midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        return min(
            midnight + timedelta(days=1),
            selectors.availability_changes_at(now=now, **days) or now + timedelta(days=1),
        )

    def get_queryset(self) -> QuerySet[Any]:
        if self.action == "list":
            query = SlotRangeQuery(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            return selectors.slot_availability(
                date_from=query.validated_data["date_from"],
                date_to=query.validated_data["date_to"],
            )
        return selectors.slot_availability()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The page in one hand-written query, shaped as ``SlotSerializer`` shapes it."""
        query = SlotRangeQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        days = {name: query.validated_data[name] for name in ("date_from", "date_to")}
        paginator = cast(StandardPagination, self.paginator)
        size = paginator.get_page_size(request)
        number = query.validated_data.get("page", 1)  # a whole number from 1
        if number > MAX_PAGE:  # past the last of any range (its offset would not fit a bigint)
            raise NotFound(paginator.invalid_page_message)
        start = (number - 1) * size
        rows: Any = ReadPage(
            *selectors.slot_availability_rows(now=timezone.now(), start=start, size=size, **days),
            start=start,
        )
        page: Any = self.paginate_queryset(rows)
        return self.get_paginated_response([_slot_json(row) for row in page or ()])

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        slot = self.get_object()
        data = SlotUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.slot_update(slot=slot, actor=signed_in_user(request), **data.validated_data)
        return Response(SlotSerializer(self.get_queryset().get(pk=slot.pk)).data)

    @extend_schema(
        operation_id="tickets_slots_generate",
        request=SlotGenerateInput,
        responses={200: SlotGenerateResult},
    )
    @action(detail=False, methods=["post"])
    def generate(self, request: Request) -> Response:
        """Create the slots of the coming days from the opening schedules (idempotent)."""
        data = SlotGenerateInput(data=request.data)
        data.is_valid(raise_exception=True)
        created = services.slots_generate(
            start=data.validated_data.get("start") or timezone.localdate(),
            days=data.validated_data["days"],
            actor=signed_in_user(request),
        )
        return Response({"created": created})


class TicketViewSet(OwnedObjectsMixin, CatalogReadViewSet):
    """Issued tickets: a visitor's own; every ticket for the ticket office, gate and finance."""

    permission_classes = [IsAuthenticated]
    serializer_class = TicketSerializer
    selector = selectors.ticket_list
    filterset_class = TicketFilter
    owner_field = "order__user"
    owner_staff_roles = TICKET_STAFF

    @extend_schema(
        operation_id="tickets_tickets_qr",
        parameters=[QrQuery],
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="QR code"),
            (200, "image/svg+xml"): OpenApiResponse(OpenApiTypes.STR, description="QR code"),
        },
    )
    @action(detail=True, methods=["get"])
    def qr(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The ticket's QR code: `?image=png` (the default) or `?image=svg`."""
        ticket = self.get_object()
        query = QrQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        code = ticket_code(ticket.secret)
        if query.validated_data["image"] == "svg":
            return HttpResponse(qr_svg(code), content_type="image/svg+xml")
        return HttpResponse(qr_png(code), content_type="image/png")

    @extend_schema(
        operation_id="tickets_tickets_pdf",
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, pk: str | None = None) -> HttpResponse:
        """A printable ticket (A6) with its QR code."""
        ticket = self.get_object()
        response = HttpResponse(tickets_pdf([ticket]), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="ticket-{ticket.pk}.pdf"'
        return response


class CheckInViewSet(mixins.ListModelMixin, BaseViewSet):
    """Scans at the gate: ``POST`` the QR's content; the first valid scan is accepted."""

    permission_classes = [role_permission(read=COUNTER_STAFF, write=(Role.GATE_STAFF,))]
    serializer_class = CheckInSerializer
    selector = selectors.check_in_list
    filterset_fields = ("gate",)

    @extend_schema(request=CheckInInput, responses={201: CheckInSerializer})
    def create(self, request: Request) -> Response:
        """Admit a ticket. 409 `already_checked_in` (with `details.checked_in_at` and
        `details.gate`), `wrong_day`, `too_early`, `slot_ended` or `ticket_void`; 400
        `invalid_ticket_code` for a forged or mistyped code; 404 `unknown_ticket`."""
        data = CheckInInput(data=request.data)
        data.is_valid(raise_exception=True)
        check_in = services.ticket_check_in(actor=signed_in_user(request), **data.validated_data)
        return Response(_check_in_json(check_in), status=status.HTTP_201_CREATED)


class AttendanceView(APIView):
    """Capacity, seats sold and visitors checked in: per day, and per slot and gate for one
    day."""

    permission_classes = [role_permission(read=TICKET_STAFF)]

    @extend_schema(
        operation_id="tickets_attendance",
        parameters=[AttendanceQuery],
        responses={200: AttendanceSerializer},
    )
    def get(self, request: Request) -> Response:
        query = AttendanceQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        date_from, date_to = query.validated_data["date_from"], query.validated_data["date_to"]
        one_day = date_from == date_to
        body = {
            "days": selectors.attendance_by_day(date_from=date_from, date_to=date_to),
            "slots": list(selectors.attendance_by_slot(day=date_from)) if one_day else [],
            "gates": selectors.check_ins_by_gate(day=date_from) if one_day else [],
        }
        return Response(AttendanceSerializer(body).data)
