"""The education department's back office.

Programs, instructors and sessions are written through the education services, never by the
admin's own ``save()``: the double-booking checks, the locks and the audit entries are theirs.
Their forms call the service once every field is clean (``ServiceForm``), so that a refusal
(``ServiceError``, ``ConflictError``) shows on the form, next to its field, instead of failing
after the page was accepted. Enrollments are records, cancelled by an action that calls
``services.enrollment_cancel``; sessions are cancelled, never deleted, by one calling
``services.session_cancel``.
"""

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.business.payments.admin import RecordInline
from apps.support.common.admin import (
    BackOfficeInline,
    CheckedImageForm,
    RecordAdmin,
    ServiceForm,
    ServiceFormAdmin,
)
from apps.support.common.errors import ServiceError
from apps.support.security.models import User
from apps.support.security.roles import EDUCATION_STAFF, Role, has_any_role

from . import errors, selectors, services
from .models import (
    Enrollment,
    Instructor,
    Participant,
    Program,
    ProgramImage,
    Session,
    SessionInstructor,
    SessionStatus,
)
from .services.programs import INSTRUCTOR_FIELDS, PROGRAM_FIELDS
from .services.sessions import SESSION_FIELDS

# What session_update writes, but the instructors: the form shows them apart (SessionForm).
SESSION_FORM_FIELDS = tuple(name for name in SESSION_FIELDS if name != "instructors")


def _actor(request: HttpRequest) -> User:
    """The signed-in member of staff (the back office admits nobody else)."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


class CancelActionForm(ActionForm):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=200)


def _cancel_each(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    rows: Iterable[Any],
    cancel: Callable[[User, Any, str], Any],
) -> None:
    """Cancel ``rows`` one by one through ``cancel`` (a service), with the reason typed
    beside the action; say how many were cancelled and why the others were refused."""
    reason = request.POST.get("reason", "").strip()
    if not reason:
        model_admin.message_user(
            request, _("Give the reason for the cancellation."), messages.ERROR
        )
        return
    actor = _actor(request)
    done = 0
    refused: Counter[str] = Counter()
    for row in rows:
        try:
            cancel(actor, row, reason)
        except ServiceError as error:
            refused[str(error.message)] += 1
        else:
            done += 1
    if done:
        model_admin.message_user(
            request,
            ngettext("%(count)d cancelled.", "%(count)d cancelled.", done) % {"count": done},
            messages.SUCCESS,
        )
    for message, count in sorted(refused.items()):
        model_admin.message_user(
            request,
            _("Not cancelled (%(count)d): %(reason)s") % {"count": count, "reason": message},
            messages.ERROR,
        )


class ProgramForm(ServiceForm):
    class Meta:
        model = Program
        fields = (*PROGRAM_FIELDS, "species", "sections")

    def write(self) -> Program:
        data = self.submitted((*PROGRAM_FIELDS, "species", "sections"))
        if self.adding:
            return services.program_create(data=data)
        return services.program_update(program=self.instance, data=data)


class ProgramImageForm(CheckedImageForm):
    """A new picture is checked as the API checks a program's pictures."""

    class Meta:
        model = ProgramImage
        fields = ("image", "alt_text_es", "alt_text_en", "credit", "display_order")


class ProgramImageInline(BackOfficeInline):
    model = ProgramImage
    form = ProgramImageForm
    extra = 0


@admin.register(Program)
class ProgramAdmin(ServiceFormAdmin):
    """What the department offers. Never deleted (sessions refer to it): hide it with
    "public"."""

    form = ProgramForm
    list_display = (
        "title_es",
        "slug",
        "audience",
        "price",
        "currency",
        "duration_minutes",
        "max_participants",
        "is_public",
        "thumbnail",
    )
    list_filter = ("audience", "is_public")
    search_fields = ("title_es", "title_en", "slug", "summary_es", "summary_en")
    filter_horizontal = ("species", "sections")
    inlines = (ProgramImageInline,)
    fieldsets = (
        (None, {"fields": ("slug", "title_es", "title_en", "audience", "is_public")}),
        (
            _("Description"),
            {
                "fields": (
                    "summary_es",
                    "summary_en",
                    "description_es",
                    "description_en",
                    "requirements_es",
                    "requirements_en",
                )
            },
        ),
        (
            _("Participants and price"),
            {
                "fields": (
                    ("min_age", "max_age"),
                    "duration_minutes",
                    ("min_participants", "max_participants"),
                    ("price", "currency"),
                )
            },
        ),
        (_("Species and sections"), {"fields": ("species", "sections")}),
    )

    @admin.display(description=_("image"))
    def thumbnail(self, program: Program) -> str:
        first = next(iter(program.images.all()), None)
        if first is None:
            return "—"
        return format_html(
            '<img src="{}" alt="{}" height="40">', first.image.url, first.alt_text_es
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Program]:
        return super().get_queryset(request).prefetch_related("images")


class InstructorForm(ServiceForm):
    class Meta:
        model = Instructor
        fields = ("user", *INSTRUCTOR_FIELDS)

    def write(self) -> Instructor:
        data = self.submitted(INSTRUCTOR_FIELDS)
        if self.adding:
            return services.instructor_create(user=self.cleaned_data["user"], data=data)
        return services.instructor_update(instructor=self.instance, data=data)


@admin.register(Instructor)
class InstructorAdmin(ServiceFormAdmin):
    """Staff with the educator role who lead sessions. One who leaves is made inactive:
    the sessions they led keep them."""

    form = InstructorForm
    list_display = ("__str__", "email", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("user__email", "user__first_name", "user__last_name")
    list_select_related = ("user",)

    @admin.display(description=_("email"), ordering="user__email")
    def email(self, instructor: Instructor) -> str:
        return instructor.user.email

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("user",) if obj is not None else ()

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField | None:
        if db_field.name == "user":
            # Active educators who are not instructors yet (services.instructor_create).
            kwargs["queryset"] = User.objects.filter(
                groups__name=Role.EDUCATOR, is_active=True, instructor__isnull=True
            ).order_by("email")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class SessionForm(ServiceForm):
    # Not the model's field: its bookings carry the session's times (SessionInstructor),
    # written by the services.
    leading_instructors = forms.ModelMultipleChoiceField(
        queryset=Instructor.objects.select_related("user"),
        required=False,
        label=_("instructors"),
        widget=FilteredSelectMultiple(_("instructors"), is_stacked=False),
    )
    field_names = {"instructors": "leading_instructors"}
    code_fields = {errors.INSTRUCTOR_BOOKED: "leading_instructors"}

    class Meta:
        model = Session
        fields = ("program", *SESSION_FORM_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A habitat brings its section: the section is for a whole-section session.
        if "section" in self.fields:
            self.fields["section"].required = False
        if self.adding:
            # The service derives them from the program unless given.
            for name in ("ends_at", "capacity", "enrollment_deadline"):
                self.fields[name].required = False
        else:
            self.fields["leading_instructors"].initial = list(self.instance.instructors.all())

    def write(self) -> Session:
        fields = self.cleaned_data
        if self.adding:
            return services.session_create(
                actor=self.actor,
                program=fields["program"],
                starts_at=fields["starts_at"],
                ends_at=fields.get("ends_at"),
                section=fields.get("section"),
                habitat=fields.get("habitat"),
                instructors=list(fields["leading_instructors"]),
                capacity=fields.get("capacity"),
                enrollment_deadline=fields.get("enrollment_deadline"),
            )
        data = self.submitted(SESSION_FORM_FIELDS)
        if "leading_instructors" in self.changed_data:
            data["instructors"] = list(fields["leading_instructors"])
        return services.session_update(actor=self.actor, session=self.instance, data=data)


class WhenFilter(admin.SimpleListFilter):
    """Upcoming (not started yet) or past sessions."""

    title = _("when")
    parameter_name = "when"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("upcoming", _("Upcoming")), ("past", _("Past"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        now = timezone.now()
        if self.value() == "upcoming":
            return queryset.filter(starts_at__gte=now)
        if self.value() == "past":
            return queryset.filter(starts_at__lt=now)
        return queryset


class SessionInstructorInline(RecordInline):
    model = SessionInstructor
    fields = ("instructor", "starts_at", "ends_at", "is_active")
    verbose_name_plural = _("instructors' bookings")


class EnrollmentInline(RecordInline):
    model = Enrollment
    fields = ("email", "school_name", "status", "seats", "order", "created_at")
    readonly_fields = ("created_at",)
    show_change_link = True


@admin.register(Session)
class SessionAdmin(ServiceFormAdmin):
    """Dated sessions. Scheduled and changed through the services (never two at one place
    or with one instructor at once); cancelled by the action, which cancels every enrollment
    and refunds the paid ones. A cancelled or past session is read-only."""

    form = SessionForm
    action_form = CancelActionForm
    actions = ("cancel_sessions",)
    list_display = (
        "program",
        "starts_at",
        "place",
        "capacity",
        "confirmed",
        "seats_left",
        "status",
    )
    list_filter = (WhenFilter, "status", "program")
    search_fields = ("program__title_es", "program__title_en")
    list_select_related = ("program", "section", "habitat")
    date_hierarchy = "starts_at"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "program",
                    ("starts_at", "ends_at"),
                    ("section", "habitat"),
                    "leading_instructors",
                    "capacity",
                    "enrollment_deadline",
                )
            },
        ),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Session]:
        """With the seats the API counts (``selectors.session_availability``): confirmed,
        held by pending payments and offered to the waitlist are not left."""
        sessions = selectors.session_availability(public_only=False)
        ordering = self.get_ordering(request)
        return sessions.order_by(*ordering) if ordering else sessions

    @admin.display(description=_("seats left"), ordering="seats_left")
    def seats_left(self, session: Session) -> int:
        return session.seats_left  # type: ignore[attr-defined]

    @admin.display(description=_("place"))
    def place(self, session: Session) -> str:
        return str(session.place)

    @admin.display(description=_("instructors"))
    def leading_instructors(self, session: Session) -> str:
        """Shown in place of the form's field when the session is read-only."""
        return ", ".join(str(i) for i in session.instructors.select_related("user")) or "—"

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return self.fieldsets
        status = ("status", "confirmed", "cancelled_at", "cancel_reason")
        return (*self.fieldsets, (_("Status"), {"fields": status}))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        return ("program", "status", "confirmed", "cancelled_at", "cancel_reason")

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        return (SessionInstructorInline, EnrollmentInline) if obj is not None else ()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.status != SessionStatus.SCHEDULED:
            return False
        return super().has_change_permission(request, obj)

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return has_any_role(request.user, EDUCATION_STAFF)

    @admin.action(description=_("Cancel selected sessions"), permissions=["cancel"])
    def cancel_sessions(self, request: HttpRequest, queryset: QuerySet[Session]) -> None:
        """``services.session_cancel`` for each: enrollments cancelled, paid ones refunded,
        everyone emailed with the reason."""
        _cancel_each(
            self,
            request,
            queryset.order_by("starts_at", "id"),
            lambda actor, session, reason: services.session_cancel(
                actor=actor, session=session, reason=reason
            ),
        )


class ParticipantInline(RecordInline):
    model = Participant
    fields = ("name", "age", "birth_date", "role", "needs", "present", "cancelled_at")


@admin.register(Enrollment)
class EnrollmentAdmin(RecordAdmin):
    """Made by visitors and staff through the API (``services.enrollment_create``) and by
    payments; read-only here. The action cancels through ``services.enrollment_cancel``
    (paid seats refunded, freed seats offered to the waitlist)."""

    action_form = CancelActionForm
    actions = ("cancel_enrollments",)
    list_display = ("session", "email", "school_name", "status", "seats", "order", "created_at")
    list_filter = ("status", "session__program")
    search_fields = ("email", "school_name", "participants__name", "order__code")
    list_select_related = ("session__program", "order")
    date_hierarchy = "created_at"
    inlines = (ParticipantInline,)

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return has_any_role(request.user, EDUCATION_STAFF)

    @admin.action(description=_("Cancel selected enrollments"), permissions=["cancel"])
    def cancel_enrollments(self, request: HttpRequest, queryset: QuerySet[Enrollment]) -> None:
        _cancel_each(
            self,
            request,
            queryset.select_related("session__program").order_by("id"),
            lambda actor, enrollment, reason: services.enrollment_cancel(
                actor=actor, enrollment=enrollment, reason=reason
            ),
        )
