from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import DateTimeField, InputSerializer, ModelSerializer, MoneyField
from api.v1.payments.lines import register_line_input
from apps.business.education.models import (
    Audience,
    Enrollment,
    EnrollmentStatus,
    Instructor,
    Participant,
    ParticipantRole,
    Program,
    ProgramImage,
    Session,
)
from apps.business.education.services.programs import INSTRUCTOR_FIELDS, PROGRAM_FIELDS
from apps.business.infrastructure.models import Habitat, Section
from apps.business.wildlife.models import Species

MAX_ID = 2**31 - 1
MAX_PARTICIPANTS = 1000  # the settings' limit is checked by the service, with its own message


class ParticipantInput(InputSerializer):
    name = serializers.CharField(max_length=120)
    age = serializers.IntegerField(min_value=0, max_value=120, required=False, allow_null=True)
    birth_date = serializers.DateField(required=False, allow_null=True)
    role = serializers.ChoiceField(
        choices=ParticipantRole.choices, default=ParticipantRole.PARTICIPANT
    )
    needs = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        default="",
        help_text="Allergies or needs the educator should know of.",
    )


class EnrollmentLineInput(InputSerializer):
    """An order line enrolling participants in a paid session (``session`` and
    ``participants``; ``quantity`` is their number), or taking the seats offered to a
    waitlisted enrollment (``enrollment``)."""

    kind = serializers.ChoiceField(choices=["enrollment"])
    session = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    participants = ParticipantInput(  # type: ignore[call-arg]
        many=True, required=False, max_length=MAX_PARTICIPANTS
    )
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    school_name = serializers.CharField(
        max_length=160, required=False, allow_blank=True, default=""
    )
    enrollment = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text="An enrollment offered seats."
    )
    quantity = serializers.IntegerField(
        min_value=1, max_value=MAX_PARTICIPANTS, required=False, help_text="The participants."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "enrollment" in attrs:
            if "session" in attrs or "participants" in attrs:
                raise serializers.ValidationError(
                    {"enrollment": [_("Either an enrollment offered seats, or a session.")]}
                )
            attrs["quantity"] = attrs.get("quantity", 1)
            attrs.pop("notes", None)
            attrs.pop("school_name", None)
            return attrs
        missing = {
            name: [serializers.ErrorDetail(_("This field is required."), code="required")]
            for name in ("session", "participants")
            if name not in attrs
        }
        if missing:
            raise serializers.ValidationError(missing)
        attrs.setdefault("quantity", len(attrs["participants"]))
        return attrs


# Orders sell enrollments in paid sessions through payments (the handler is registered by
# the education app).
register_line_input("enrollment", EnrollmentLineInput)


class ProgramImageSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProgramImage
        fields = ("id", "image", "width", "height", "alt_text_es", "alt_text_en", "credit")
        read_only_fields = fields


class ProgramSerializer(ModelSerializer):
    price = MoneyField(max_digits=12, decimal_places=2, min_value=0, required=False)
    species = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Species.objects.all(), required=False
    )
    sections = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Section.objects.all(), required=False
    )
    images = ProgramImageSerializer(many=True, read_only=True)
    audience = serializers.ChoiceField(choices=Audience.choices)

    class Meta:
        model = Program
        fields = (
            "id",
            *PROGRAM_FIELDS,
            "species",
            "sections",
            "images",
        )


class ProgramImageInput(InputSerializer):
    image = serializers.ImageField(help_text="JPEG, PNG or WebP; checked by content.")
    alt_text_es = serializers.CharField(max_length=255)
    alt_text_en = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default=""
    )
    credit = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")


class InstructorSerializer(ModelSerializer):
    name = serializers.SerializerMethodField()
    specialties = serializers.ListField(
        child=serializers.CharField(max_length=80), max_length=20, required=False
    )

    class Meta:
        model = Instructor
        fields = ("id", "user", "name", *INSTRUCTOR_FIELDS)
        read_only_fields: tuple[str, ...] = ("user",)

    def get_name(self, instructor: Instructor) -> str:
        return str(instructor)


class InstructorCreateInput(InstructorSerializer):
    class Meta(InstructorSerializer.Meta):
        read_only_fields = ()


class SessionSerializer(serializers.ModelSerializer):
    program_title = serializers.SerializerMethodField()
    place = serializers.SerializerMethodField()
    instructors = serializers.SerializerMethodField()
    price = serializers.SerializerMethodField()
    currency = serializers.SerializerMethodField()
    held = serializers.IntegerField(read_only=True, help_text="Seats held by unpaid orders.")
    offered = serializers.IntegerField(
        read_only=True, help_text="Seats offered to the waitlist, not answered yet."
    )
    seats_left = serializers.IntegerField(read_only=True)
    waitlisted = serializers.IntegerField(
        read_only=True, help_text="Seats asked for on the waitlist."
    )
    available = serializers.BooleanField(
        read_only=True, help_text="Open for enrolment, with seats left."
    )

    class Meta:
        model = Session
        fields = (
            "id",
            "program",
            "program_title",
            "starts_at",
            "ends_at",
            "section",
            "habitat",
            "place",
            "instructors",
            "capacity",
            "confirmed",
            "held",
            "offered",
            "seats_left",
            "waitlisted",
            "available",
            "status",
            "enrollment_deadline",
            "cancel_reason",
            "price",
            "currency",
        )
        read_only_fields = fields

    def get_program_title(self, session: Session) -> str:
        return session.program.title

    def get_place(self, session: Session) -> str:
        return str(session.place)

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_instructors(self, session: Session) -> list[dict[str, Any]]:
        return [
            {"id": booking.instructor_id, "name": str(booking.instructor)}
            for booking in session.instructor_bookings.all()
        ]

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2))
    def get_price(self, session: Session) -> str:
        return f"{session.program.price:.2f}"

    def get_currency(self, session: Session) -> str:
        return session.program.currency


class SessionUpdateInput(InputSerializer):
    starts_at = DateTimeField(required=False)
    ends_at = DateTimeField(required=False)
    section = serializers.PrimaryKeyRelatedField(
        queryset=Section.objects.all(),
        required=False,
        allow_null=True,
        help_text="The whole section; with `habitat`, it must be the habitat's own (or left out).",
    )
    habitat = serializers.PrimaryKeyRelatedField(
        queryset=Habitat.objects.all(),
        required=False,
        allow_null=True,
        help_text="A habitat (its section comes with it); `null`: the whole section.",
    )
    instructors = serializers.PrimaryKeyRelatedField(
        queryset=Instructor.objects.all(), many=True, required=False
    )
    capacity = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    enrollment_deadline = DateTimeField(required=False)


class SessionInput(SessionUpdateInput):
    program = serializers.PrimaryKeyRelatedField(queryset=Program.objects.all())
    starts_at = DateTimeField()
    ends_at = DateTimeField(required=False, help_text="Default: the program's duration later.")
    capacity = serializers.IntegerField(
        min_value=1, max_value=1000, required=False, help_text="Default: the program's maximum."
    )


class SessionCancelInput(InputSerializer):
    reason = serializers.CharField(max_length=200, help_text="Told to everyone enrolled.")


class AttendanceMark(InputSerializer):
    id = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="A participant's id.")
    present = serializers.BooleanField()


class AttendanceInput(InputSerializer):
    participants = AttendanceMark(many=True, max_length=10000)  # type: ignore[call-arg]

    def validate_participants(self, marks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        ids = [mark["id"] for mark in marks]
        if len(ids) != len(set(ids)):
            raise serializers.ValidationError(_("Each participant once."))
        return marks


class EnrollmentStatusRow(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=EnrollmentStatus.choices)


class AttendanceResult(serializers.Serializer):
    session = serializers.IntegerField()
    status = serializers.CharField(help_text="`done` once attendance is taken.")
    present = serializers.IntegerField()
    absent = serializers.IntegerField()
    enrollments = EnrollmentStatusRow(many=True, help_text="`attended` or `no_show` each.")


class SessionParticipantSerializer(serializers.ModelSerializer):
    """What the educator needs: who, how old, what to know. Not the guardian's account or
    payment."""

    enrollment = serializers.IntegerField(source="enrollment_id", read_only=True)
    school_name = serializers.CharField(source="enrollment.school_name", read_only=True)

    class Meta:
        model = Participant
        fields = ("id", "enrollment", "school_name", "name", "age", "role", "needs", "present")
        read_only_fields = fields


class ParticipantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Participant
        fields = ("id", "name", "age", "birth_date", "role", "needs", "present", "cancelled_at")
        read_only_fields = fields


class EnrollmentSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    program = serializers.IntegerField(source="session.program_id", read_only=True)
    program_title = serializers.CharField(source="session.program.title", read_only=True)
    starts_at = DateTimeField(source="session.starts_at", read_only=True)
    participants = ParticipantSerializer(many=True, read_only=True)
    order_code = serializers.CharField(source="order.code", read_only=True, allow_null=True)

    class Meta:
        model = Enrollment
        fields = (
            "id",
            "session",
            "program",
            "program_title",
            "starts_at",
            "status",
            "seats",
            "participants",
            "school_name",
            "notes",
            "email",
            "order",
            "order_code",
            "hold_expires_at",
            "waitlisted_at",
            "offer_expires_at",
            "cancelled_at",
            "cancel_reason",
            "created_at",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=EnrollmentStatus.choices))
    def get_status(self, enrollment: Enrollment) -> str:
        return enrollment.effective_status(self.context.get("now") or timezone.now())

    def to_representation(self, instance: Enrollment) -> dict[str, Any]:
        data = super().to_representation(instance)
        if self.context.get("hide_needs") and instance.user_id != self.context.get("viewer"):
            for person in data["participants"]:
                person["needs"] = ""
        return data


class EnrollmentCreateInput(InputSerializer):
    session = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    participants = ParticipantInput(  # type: ignore[call-arg]
        many=True, min_length=1, max_length=MAX_PARTICIPANTS
    )
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    school_name = serializers.CharField(
        max_length=160,
        required=False,
        allow_blank=True,
        default="",
        help_text="A school group's school.",
    )
    waitlist = serializers.BooleanField(
        default=False, help_text="Join the waitlist when the session is full."
    )


class EnrollmentCancelInput(InputSerializer):
    participants = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        min_length=1,
        max_length=MAX_PARTICIPANTS,
        help_text="Cancel only these participants (ids); all when absent.",
    )
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
