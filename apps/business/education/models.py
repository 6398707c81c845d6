"""Education: programs, their instructors, dated sessions and the enrollments in them.

Capacity, as for ticket slots (docs/adr/0015): a session's free seats are ``capacity -
confirmed - live holds - live offers``. ``confirmed`` counts the seats of confirmed (and
attended, no-show) participants and changes only under the session's row lock. A hold is an
enrollment waiting for its order to be paid (``pending_payment``) until ``hold_expires_at``; an
offer is a waitlisted enrollment given seats until ``offer_expires_at``. Both stop counting at
that moment by time alone: no job is needed for a seat to come free (docs/adr/0028).
"""

import uuid
from datetime import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from apps.business.infrastructure.models import Habitat, Section
from apps.business.payments.models import Order, OrderLine
from apps.business.wildlife.models import Species
from apps.support.common.models import TimeStampedModel


def default_currency() -> str:
    return settings.PAYMENTS_CURRENCY


def _localized(instance: models.Model, name: str) -> str:
    english = getattr(instance, f"{name}_en", "")
    if (get_language() or "es").startswith("en") and english:
        return str(english)
    return str(getattr(instance, f"{name}_es"))


class Audience(models.TextChoices):
    FAMILIES = "families", _("Families")
    SCHOOLS = "schools", _("Schools")
    ADULTS = "adults", _("Adults")
    CHILDREN = "children", _("Children")


class Program(TimeStampedModel):
    """What the education department offers: a guided tour, a school visit, a summer camp."""

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    title_es = models.CharField(_("title (Spanish)"), max_length=160)
    title_en = models.CharField(_("title (English)"), max_length=160, blank=True)
    summary_es = models.CharField(_("summary (Spanish)"), max_length=300, blank=True)
    summary_en = models.CharField(_("summary (English)"), max_length=300, blank=True)
    description_es = models.TextField(_("description (Spanish)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    audience = models.CharField(_("audience"), max_length=16, choices=Audience.choices)
    min_age = models.PositiveSmallIntegerField(
        _("minimum age"), null=True, blank=True, validators=[MaxValueValidator(120)]
    )
    max_age = models.PositiveSmallIntegerField(
        _("maximum age"), null=True, blank=True, validators=[MaxValueValidator(120)]
    )
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), validators=[MinValueValidator(5), MaxValueValidator(24 * 60 * 7)]
    )
    price = models.DecimalField(
        _("price per participant"),
        max_digits=12,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_("0 for a free program: enrollments are confirmed at once."),
    )
    currency = models.CharField(_("currency"), max_length=3, default=default_currency)
    min_participants = models.PositiveSmallIntegerField(
        _("minimum participants"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("Below it at the enrolment deadline, staff decide whether the session runs."),
    )
    max_participants = models.PositiveSmallIntegerField(
        _("maximum participants"),
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_("The capacity a new session takes unless it sets its own."),
    )
    requirements_es = models.TextField(_("requirements (Spanish)"), blank=True)
    requirements_en = models.TextField(_("requirements (English)"), blank=True)
    species = models.ManyToManyField(
        Species, blank=True, related_name="education_programs", verbose_name=_("species")
    )
    sections = models.ManyToManyField(
        Section, blank=True, related_name="education_programs", verbose_name=_("sections")
    )
    is_public = models.BooleanField(
        _("public"), default=False, help_text=_("Shown to visitors and open for enrolment.")
    )

    class Meta:
        verbose_name = _("program")
        verbose_name_plural = _("programs")
        ordering = ("title_es", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gte=0),
                name="program_price",
                violation_error_message=_("The price cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(max_participants__gte=F("min_participants")),
                name="program_participants_range",
                violation_error_message=_(
                    "The maximum of participants cannot be below the minimum."
                ),
            ),
            models.CheckConstraint(
                condition=Q(min_age__isnull=True)
                | Q(max_age__isnull=True)
                | Q(max_age__gte=F("min_age")),
                name="program_age_range",
                violation_error_message=_("The maximum age cannot be below the minimum age."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return _localized(self, "title")

    @property
    def is_free(self) -> bool:
        return self.price == 0

    def admits_age(self, age: int) -> bool:
        return (self.min_age is None or age >= self.min_age) and (
            self.max_age is None or age <= self.max_age
        )


def program_image_path(instance: "ProgramImage", filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower()
    return f"education/programs/{instance.program_id}/{instance.uuid}.{extension}"


class ProgramImage(TimeStampedModel):
    """A picture of a program for the website, checked by its content when uploaded."""

    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="images", verbose_name=_("program")
    )
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    image = models.ImageField(
        _("image"), upload_to=program_image_path, width_field="width", height_field="height"
    )
    width = models.PositiveIntegerField(editable=False, null=True)
    height = models.PositiveIntegerField(editable=False, null=True)
    alt_text_es = models.CharField(_("alternative text (Spanish)"), max_length=255)
    alt_text_en = models.CharField(_("alternative text (English)"), max_length=255, blank=True)
    credit = models.CharField(_("credit"), max_length=120, blank=True)
    display_order = models.PositiveSmallIntegerField(_("display order"), default=0)

    class Meta:
        verbose_name = _("program image")
        verbose_name_plural = _("program images")
        ordering = ("display_order", "id")

    def __str__(self) -> str:
        return self.alt_text_es


class Instructor(TimeStampedModel):
    """A member of staff with the educator role who leads sessions."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="instructor",
        verbose_name=_("user"),
    )
    specialties = models.JSONField(
        _("specialties"), default=list, blank=True, help_text=_("e.g. sea turtles, reef ecology.")
    )
    bio_es = models.TextField(_("short bio (Spanish)"), max_length=1000, blank=True)
    bio_en = models.TextField(_("short bio (English)"), max_length=1000, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("instructor")
        verbose_name_plural = _("instructors")
        ordering = ("user__first_name", "user__last_name", "id")

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.email


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    CANCELLED = "cancelled", _("Cancelled")
    DONE = "done", _("Done")


class Session(TimeStampedModel):
    """One dated occurrence of a program, at one place: a habitat, or a whole section.

    ``section`` is always set (a habitat's own section): a session booking the whole section
    and one in a habitat of it cannot overlap, nor two in one habitat (docs/adr/0028)."""

    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("program")
    )
    starts_at = models.DateTimeField(_("starts at"), db_index=True)
    ends_at = models.DateTimeField(_("ends at"))
    section = models.ForeignKey(
        Section,
        on_delete=models.PROTECT,
        related_name="education_sessions",
        verbose_name=_("section"),
        help_text=_("The whole section, or the section of the habitat."),
    )
    habitat = models.ForeignKey(
        Habitat,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="education_sessions",
        verbose_name=_("habitat"),
        help_text=_("Empty: the session has the whole section."),
    )
    instructors = models.ManyToManyField(
        Instructor,
        through="SessionInstructor",
        related_name="sessions",
        verbose_name=_("instructors"),
    )
    capacity = models.PositiveIntegerField(_("capacity"), validators=[MinValueValidator(1)])
    confirmed = models.PositiveIntegerField(
        _("seats confirmed"),
        default=0,
        editable=False,
        help_text=_("Participants confirmed, attended or absent: seats no longer free."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED
    )
    enrollment_deadline = models.DateTimeField(
        _("enrolment deadline"), help_text=_("Enrolment closes then; the minimum is checked.")
    )
    cancel_reason = models.CharField(_("cancel reason"), max_length=200, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    minimum_alerted_at = models.DateTimeField(
        _("below-minimum alert sent at"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ("starts_at", "id")
        indexes = [models.Index(fields=("program", "starts_at"), name="session_program_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="session_ends_later"
            ),
            models.CheckConstraint(
                condition=Q(enrollment_deadline__lte=F("starts_at")),
                name="session_deadline_before_start",
            ),
            # Never overbooked: the last line of defence behind the session lock.
            models.CheckConstraint(
                condition=Q(confirmed__lte=F("capacity")), name="session_not_overbooked"
            ),
            # The place's overlap rule lives in migration 0002 as a PostgreSQL exclusion
            # constraint (session_place_no_overlap); the services check it everywhere.
        ]

    def __str__(self) -> str:
        return f"{self.program} {timezone.localtime(self.starts_at):%Y-%m-%d %H:%M}"

    @property
    def place(self) -> Section | Habitat:
        return self.habitat or self.section

    @property
    def is_free(self) -> bool:
        return self.program.is_free

    def enrollment_open(self, now: datetime) -> bool:
        return self.status == SessionStatus.SCHEDULED and now < self.enrollment_deadline


class SessionInstructor(models.Model):
    """An instructor leading a session. The session's times are copied here (and kept in
    step by the services) so that PostgreSQL can refuse two overlapping bookings of one
    instructor with an exclusion constraint (migration 0002)."""

    session = models.ForeignKey(
        Session, on_delete=models.CASCADE, related_name="instructor_bookings"
    )
    instructor = models.ForeignKey(Instructor, on_delete=models.PROTECT, related_name="bookings")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("False once the session is cancelled.")
    )

    class Meta:
        verbose_name = _("instructor booking")
        verbose_name_plural = _("instructor bookings")
        ordering = ("starts_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("session", "instructor"), name="session_instructor_once"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="session_instructor_times"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instructor} @ {self.session}"


class EnrollmentStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("Pending payment")
    CONFIRMED = "confirmed", _("Confirmed")
    WAITLISTED = "waitlisted", _("Waitlisted")
    OFFERED = "offered", _("Offered seats")
    CANCELLED = "cancelled", _("Cancelled")
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("No-show")


# The declared state machine (docs/adr/0028): every change of an enrollment's status goes
# through ``services._transition``, which refuses anything not listed here.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    EnrollmentStatus.PENDING_PAYMENT: (EnrollmentStatus.CONFIRMED, EnrollmentStatus.CANCELLED),
    EnrollmentStatus.WAITLISTED: (EnrollmentStatus.OFFERED, EnrollmentStatus.CANCELLED),
    EnrollmentStatus.OFFERED: (
        EnrollmentStatus.CONFIRMED,
        EnrollmentStatus.PENDING_PAYMENT,
        EnrollmentStatus.CANCELLED,
    ),
    EnrollmentStatus.CONFIRMED: (
        EnrollmentStatus.CANCELLED,
        EnrollmentStatus.ATTENDED,
        EnrollmentStatus.NO_SHOW,
    ),
    EnrollmentStatus.ATTENDED: (EnrollmentStatus.NO_SHOW,),  # corrected by the educator
    EnrollmentStatus.NO_SHOW: (EnrollmentStatus.ATTENDED,),
    EnrollmentStatus.CANCELLED: (),
}
# Statuses whose participants hold confirmed seats (counted in ``Session.confirmed``).
SEATED_STATUSES = (
    EnrollmentStatus.CONFIRMED,
    EnrollmentStatus.ATTENDED,
    EnrollmentStatus.NO_SHOW,
)


class Enrollment(TimeStampedModel):
    """Participants enrolled together in one session: a family, a school group."""

    session = models.ForeignKey(
        Session, on_delete=models.PROTECT, related_name="enrollments", verbose_name=_("session")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enrollments",
        verbose_name=_("visitor"),
        help_text=_("Who enrolled (a guardian, a teacher); empty for a counter sale."),
    )
    email = models.EmailField(_("email"))
    status = models.CharField(_("status"), max_length=16, choices=EnrollmentStatus.choices)
    seats = models.PositiveIntegerField(
        _("seats"), help_text=_("Participants not cancelled: the seats this enrollment takes.")
    )
    school_name = models.CharField(
        _("school"), max_length=160, blank=True, help_text=_("For a school group.")
    )
    notes = models.TextField(_("notes"), max_length=2000, blank=True)
    order = models.ForeignKey(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enrollments",
        verbose_name=_("order"),
    )
    order_line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    hold_expires_at = models.DateTimeField(
        _("seats held until"),
        null=True,
        blank=True,
        help_text=_("Pending payment: the seats stop counting at this moment."),
    )
    waitlisted_at = models.DateTimeField(
        _("waitlisted at"), null=True, blank=True, help_text=_("Its place in the queue.")
    )
    offer_expires_at = models.DateTimeField(_("offer expires at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("cancel reason"), max_length=200, blank=True)
    reminder_sent_at = models.DateTimeField(
        _("reminder sent at"), null=True, blank=True, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=("session", "status"), name="enrollment_session_status"),
            models.Index(fields=("user", "-created_at"), name="enrollment_user_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="cancelled") | Q(seats__gte=1), name="enrollment_seats"
            ),
            models.CheckConstraint(
                condition=~Q(status="pending_payment")
                | Q(order__isnull=False, hold_expires_at__isnull=False),
                name="enrollment_pending_has_order",
            ),
            models.CheckConstraint(
                condition=~Q(status="offered") | Q(offer_expires_at__isnull=False),
                name="enrollment_offer_expires",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session} — {self.email} ({self.seats})"

    def effective_status(self, now: datetime | None = None) -> str:
        """What the status is by the clock: an unanswered offer, or a hold whose order ran
        out unpaid, has ended before any job records it."""
        now = now or timezone.now()
        if self.status == EnrollmentStatus.OFFERED and self.offer_expires_at <= now:  # type: ignore[operator]
            return EnrollmentStatus.CANCELLED
        if (
            self.status == EnrollmentStatus.PENDING_PAYMENT
            and self.hold_expires_at is not None
            and self.hold_expires_at <= now
        ):
            return EnrollmentStatus.CANCELLED
        return self.status


class ParticipantRole(models.TextChoices):
    PARTICIPANT = "participant", _("Participant")
    STUDENT = "student", _("Student")
    TEACHER = "teacher", _("Teacher")
    GUARDIAN = "guardian", _("Guardian")


class Participant(models.Model):
    """One person taking a seat. Cancelled participants stay, for the record."""

    enrollment = models.ForeignKey(
        Enrollment,
        on_delete=models.CASCADE,
        related_name="participants",
        verbose_name=_("enrollment"),
    )
    name = models.CharField(_("name"), max_length=120)
    age = models.PositiveSmallIntegerField(
        _("age"), null=True, blank=True, validators=[MaxValueValidator(120)]
    )
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    role = models.CharField(
        _("role"), max_length=16, choices=ParticipantRole.choices, default="participant"
    )
    needs = models.CharField(
        _("allergies or needs"), max_length=500, blank=True, help_text=_("For the educator.")
    )
    present = models.BooleanField(
        _("present"), null=True, blank=True, help_text=_("Marked by the educator.")
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    refund_settled = models.BooleanField(
        _("refund settled"),
        default=False,
        editable=False,
        help_text=_("Cancelled from a paid enrollment and its refund confirmed."),
    )

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        ordering = ("enrollment", "id")

    def __str__(self) -> str:
        return self.name
