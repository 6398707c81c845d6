from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import InputSerializer, ModelSerializer
from api.v1.payments.lines import register_line_input
from apps.business.tickets import services
from apps.business.tickets.models import (
    CheckIn,
    Closure,
    OpeningSchedule,
    Ticket,
    TicketType,
    TimeSlot,
)
from apps.business.tickets.signing import ticket_code

MAX_RANGE_DAYS = 62
MAX_ID = 2**31 - 1


class TicketLineInput(InputSerializer):
    """An order line of tickets: ``quantity`` tickets of a type for a time slot."""

    kind = serializers.ChoiceField(
        choices=["ticket"], default="ticket", help_text="`ticket` (the default)."
    )
    slot = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="A time slot's id.")
    ticket_type = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="A ticket type's id."
    )
    quantity = serializers.IntegerField(min_value=1, max_value=1000)


# Orders sell tickets through payments (its handler is registered by the tickets app).
register_line_input("ticket", TicketLineInput, default=True)


class TicketTypeSerializer(ModelSerializer):
    class Meta:
        model = TicketType
        fields = ("id", *services.TICKET_TYPE_FIELDS)


@extend_schema_field(
    {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", "example": "09:00"}
)
class LocalTimeField(serializers.TimeField):
    """A wall-clock time of the park's time zone, "HH:MM[:SS]" (OpenAPI's "time" format
    would demand a UTC offset, which a daily opening hour does not have)."""


class OpeningScheduleSerializer(ModelSerializer):
    opens_at = LocalTimeField()
    closes_at = LocalTimeField()

    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        min_length=1,
        max_length=7,
        help_text="0 = Monday … 6 = Sunday.",
    )

    class Meta:
        model = OpeningSchedule
        fields = ("id", *services.SCHEDULE_FIELDS)


class ClosureSerializer(ModelSerializer):
    class Meta:
        model = Closure
        fields = ("id", "date", "reason")


class SlotSerializer(serializers.ModelSerializer):
    held = serializers.IntegerField(read_only=True, help_text="Seats held by unpaid orders.")
    remaining = serializers.IntegerField(read_only=True, help_text="Seats still for sale.")
    bookable = serializers.BooleanField(
        read_only=True, help_text="Open, not over yet, and with seats left."
    )

    class Meta:
        model = TimeSlot
        fields = (
            "id",
            "date",
            "starts_at",
            "ends_at",
            "capacity",
            "sold",
            "held",
            "remaining",
            "is_closed",
            "bookable",
        )


class SlotUpdateInput(InputSerializer):
    capacity = serializers.IntegerField(min_value=0, max_value=100_000, required=False)
    is_closed = serializers.BooleanField(required=False)


class SlotRangeQuery(InputSerializer):
    date = serializers.DateField(required=False, help_text="One day (default: today).")
    date_from = serializers.DateField(required=False, help_text="First day of a range.")
    date_to = serializers.DateField(required=False, help_text="Last day of a range.")
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        day = attrs.get("date")
        if day and ("date_from" in attrs or "date_to" in attrs):
            raise serializers.ValidationError(_("Ask for one date, or for a range."))
        if day is None and "date_from" not in attrs and "date_to" not in attrs:
            day = timezone.localdate()
        if day is not None:
            attrs["date_from"] = attrs["date_to"] = day
        else:
            attrs.setdefault("date_from", attrs.get("date_to"))
            attrs.setdefault("date_to", attrs["date_from"])
        if attrs["date_to"] < attrs["date_from"]:
            raise serializers.ValidationError({"date_to": _("Must not be before date_from.")})
        if attrs["date_to"] - attrs["date_from"] > timedelta(days=MAX_RANGE_DAYS - 1):
            raise serializers.ValidationError(
                {"date_to": _("At most %(days)d days at a time.") % {"days": MAX_RANGE_DAYS}}
            )
        return attrs


class SlotGenerateInput(InputSerializer):
    start = serializers.DateField(required=False, help_text="First day (default: today).")
    days = serializers.IntegerField(min_value=1, max_value=366, default=60)


class SlotGenerateResult(serializers.Serializer):
    created = serializers.IntegerField()


class TicketSerializer(serializers.ModelSerializer):
    code = serializers.SerializerMethodField(help_text="What the QR carries; shown to the gate.")
    order_code = serializers.CharField(source="order.code", read_only=True)
    ticket_type_name = serializers.CharField(source="ticket_type.name", read_only=True)
    starts_at = serializers.DateTimeField(source="slot.starts_at", read_only=True)
    ends_at = serializers.DateTimeField(source="slot.ends_at", read_only=True)
    checked_in_at = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = (
            "id",
            "code",
            "status",
            "order",
            "order_code",
            "slot",
            "starts_at",
            "ends_at",
            "ticket_type",
            "ticket_type_name",
            "checked_in_at",
        )

    def get_code(self, ticket: Ticket) -> str:
        return ticket_code(ticket.secret)

    def get_checked_in_at(self, ticket: Ticket) -> str | None:
        try:
            moment = ticket.check_in.checked_in_at
        except CheckIn.DoesNotExist:
            return None
        return serializers.DateTimeField().to_representation(moment)


class QrQuery(InputSerializer):
    # Not "format": DRF reserves that query parameter for its own content negotiation.
    image = serializers.ChoiceField(choices=("png", "svg"), default="png")


class CheckInInput(InputSerializer):
    code = serializers.CharField(max_length=200, help_text="The scanned QR content.")
    gate = serializers.CharField(max_length=64, help_text="Which entrance scanned it.")


class CheckInSerializer(serializers.ModelSerializer):
    ticket = TicketSerializer(read_only=True)
    checked_in_by = serializers.EmailField(source="checked_in_by.email", read_only=True)

    class Meta:
        model = CheckIn
        fields = ("id", "ticket", "gate", "checked_in_at", "checked_in_by")


class AttendanceQuery(SlotRangeQuery):
    pass


class SlotAttendanceSerializer(serializers.Serializer):
    slot = serializers.IntegerField(source="id")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    capacity = serializers.IntegerField()
    sold = serializers.IntegerField()
    checked_in = serializers.IntegerField()


class GateAttendanceSerializer(serializers.Serializer):
    gate = serializers.CharField()
    checked_in = serializers.IntegerField()


class DayAttendanceSerializer(serializers.Serializer):
    date = serializers.DateField()
    capacity = serializers.IntegerField()
    sold = serializers.IntegerField()
    checked_in = serializers.IntegerField()


class AttendanceSerializer(serializers.Serializer):
    days = DayAttendanceSerializer(many=True)
    slots = SlotAttendanceSerializer(
        many=True, help_text="Per slot, when one day is asked (`date`)."
    )
    gates = GateAttendanceSerializer(many=True, help_text="Per gate, when one day is asked.")
