"""/api/v1/education/: programs, instructors, sessions (the public calendar, scheduling,
cancellation, attendance) and enrollments (enrol, cancel, accept an offer)."""

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from api.filters import boolean_query_parameter
from api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from api.ownership import OwnedObjectsMixin
from api.permissions import role_permission, signed_in_user
from api.viewsets import BaseViewSet, CatalogReadViewSet, ServiceCreateMixin, ServiceUpdateMixin
from apps.business.education import errors, selectors, services
from apps.business.education.models import Enrollment, Session
from apps.support.common.errors import ServiceError
from apps.support.security.roles import (
    EDUCATION_STAFF,
    ENROLLMENT_STAFF,
    PROGRAM_EDITORS,
    has_any_role,
)

from .filters import EnrollmentFilter, ProgramFilter, SessionFilter
from .serializers import (
    AttendanceInput,
    AttendanceResult,
    EnrollmentCancelInput,
    EnrollmentCreateInput,
    EnrollmentSerializer,
    InstructorCreateInput,
    InstructorSerializer,
    ProgramImageInput,
    ProgramImageSerializer,
    ProgramSerializer,
    SessionCancelInput,
    SessionInput,
    SessionParticipantSerializer,
    SessionSerializer,
    SessionUpdateInput,
)

# Who sees programs and sessions that are not public yet.
CATALOGUE_STAFF = (*PROGRAM_EDITORS, *ENROLLMENT_STAFF)


class ProgramViewSet(ServiceCreateMixin, ServiceUpdateMixin, CatalogReadViewSet):
    """What the education department offers. Everyone reads public programs; educators and
    content editors write. Programs are never deleted (sessions refer to them): hide one with
    ``is_public``."""

    permission_classes = [role_permission(public_read=True, write=PROGRAM_EDITORS)]
    every_row_roles = CATALOGUE_STAFF
    serializer_class = ProgramSerializer
    filterset_class = ProgramFilter
    search_fields = ("title_es", "title_en", "summary_es", "summary_en", "slug")
    ordering_fields = ("title_es", "price", "duration_minutes")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.program_list(public_only=not self.sees_every_row())

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def perform_create(self, serializer: Any) -> Any:
        return services.program_create(data=serializer.validated_data)

    def perform_update(self, instance: Any, serializer: Any) -> Any:
        return services.program_update(program=instance, data=serializer.validated_data)

    @extend_schema(
        operation_id="education_programs_images_create",
        request={"multipart/form-data": ProgramImageInput},
        responses={201: ProgramImageSerializer},
        filters=False,
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser], url_path="images")
    def add_image(self, request: Request, pk: str | None = None) -> Response:
        """Add a picture to the program's gallery (JPEG, PNG or WebP, checked by its
        content)."""
        program = self.get_object()
        data = ProgramImageInput(data=request.data)
        data.is_valid(raise_exception=True)
        image = services.program_image_add(program=program, **data.validated_data)
        return Response(
            ProgramImageSerializer(image, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        operation_id="education_programs_images_destroy", responses={204: None}, filters=False
    )
    @action(detail=True, methods=["delete"], url_path=r"images/(?P<image_id>\d+)")
    def remove_image(
        self, request: Request, pk: str | None = None, image_id: str | None = None
    ) -> Response:
        program = self.get_object()
        services.program_image_remove(image=get_object_or_404(program.images, pk=image_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class InstructorViewSet(ServiceCreateMixin, ServiceUpdateMixin, CatalogReadViewSet):
    """Educators who lead sessions. Everyone reads the active ones (names, specialties and
    bios for the website); educators keep them."""

    permission_classes = [role_permission(public_read=True, write=EDUCATION_STAFF)]
    every_row_roles = EDUCATION_STAFF
    serializer_class = InstructorSerializer
    input_serializer_class = InstructorCreateInput
    filterset_fields = ("is_active",)
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_serializer_class(self) -> Any:
        if self.action == "partial_update":
            return InstructorSerializer
        return super().get_serializer_class()

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.instructor_list(active_only=not self.sees_every_row())

    def perform_create(self, serializer: Any) -> Any:
        data = dict(serializer.validated_data)
        return services.instructor_create(user=data.pop("user"), data=data)

    def perform_update(self, instance: Any, serializer: Any) -> Any:
        return services.instructor_update(instructor=instance, data=serializer.validated_data)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "mine",
                OpenApiTypes.BOOL,
                description="Only the sessions the caller leads as an instructor.",
            )
        ],
        description=(
            "The calendar: sessions with seats confirmed, held by unpaid orders, offered to the "
            "waitlist and left. `?program=&from=&to=&available=true` for the public calendar "
            "(`from` and `to` are the park's dates, both included); `?mine=true` for the "
            "sessions the caller leads."
        ),
    ),
    create=extend_schema(request=SessionInput, responses={201: SessionSerializer}),
    partial_update=extend_schema(request=SessionUpdateInput, responses={200: SessionSerializer}),
)
class SessionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Dated sessions of the programs. Everyone reads those of public programs; educators
    schedule, change, cancel and take attendance. A place or an instructor booked twice at
    overlapping times is a 409 naming the other session."""

    permission_classes = [role_permission(public_read=True, write=EDUCATION_STAFF)]
    every_row_roles = CATALOGUE_STAFF
    serializer_class = SessionSerializer
    filterset_class = SessionFilter
    ordering_fields = ("starts_at",)
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        sessions = selectors.session_availability(public_only=not self.sees_every_row())
        if self.action == "list" and boolean_query_parameter(self.request, "mine"):
            if not self.request.user.is_authenticated:
                return sessions.none()
            sessions = selectors.sessions_led_by(sessions, user_id=self.request.user.pk)
        return sessions

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # The calendar's filters are for the list; an item is found by its id alone.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def _output(self, session: Session) -> Response:
        return Response(SessionSerializer(self.get_queryset().get(pk=session.pk)).data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = SessionInput(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.session_create(actor=signed_in_user(request), **data.validated_data)
        response = self._output(session)
        response.status_code = status.HTTP_201_CREATED
        return response

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        session = self.get_object()
        data = SessionUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.session_update(
            actor=signed_in_user(request), session=session, data=data.validated_data
        )
        return self._output(session)

    @extend_schema(
        operation_id="education_sessions_cancel",
        request=SessionCancelInput,
        responses={200: SessionSerializer},
        filters=False,
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Call the session off: every enrollment cancelled, paid seats refunded, the
        waitlist closed, everyone emailed."""
        session = self.get_object()
        data = SessionCancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.session_cancel(
            actor=signed_in_user(request), session=session, reason=data.validated_data["reason"]
        )
        return self._output(session)

    @extend_schema(
        operation_id="education_sessions_participants",
        responses={200: SessionParticipantSerializer(many=True)},
        filters=False,
    )
    @action(
        detail=True, methods=["get"], permission_classes=[role_permission(read=EDUCATION_STAFF)]
    )
    def participants(self, request: Request, pk: str | None = None) -> Response:
        """Who is expected: names, ages, roles and the needs the guardians wrote (paginated,
        by school group and enrollment)."""
        session = self.get_object()
        page = self.paginate_queryset(selectors.session_participants(session=session))
        return self.get_paginated_response(SessionParticipantSerializer(page, many=True).data)

    @extend_schema(
        operation_id="education_sessions_attendance",
        request=AttendanceInput,
        responses={200: AttendanceResult},
        filters=False,
    )
    @action(detail=True, methods=["post"])
    def attendance(self, request: Request, pk: str | None = None) -> Response:
        """The whole list at once: ``{"participants": [{"id": 5, "present": true}, …]}``.
        Sent again, it corrects the last one."""
        session = self.get_object()
        data = AttendanceInput(data=request.data)
        data.is_valid(raise_exception=True)
        present = {mark["id"]: mark["present"] for mark in data.validated_data["participants"]}
        enrollments = services.session_attendance(
            actor=signed_in_user(request), session=session, present=present
        )
        session.refresh_from_db()
        result = {
            "session": session.pk,
            "status": session.status,
            "present": sum(present.values()),
            "absent": len(present) - sum(present.values()),
            "enrollments": [{"id": e.pk, "status": e.status} for e in enrollments],
        }
        return Response(AttendanceResult(result).data)


@extend_schema_view(
    create=extend_schema(
        request=EnrollmentCreateInput,
        responses={201: EnrollmentSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    ),
)
class EnrollmentViewSet(
    OwnedObjectsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet
):
    """A visitor's own enrollments; every enrollment for educators and finance."""

    permission_classes = [IsAuthenticated]
    serializer_class = EnrollmentSerializer
    selector = selectors.enrollment_list
    filterset_class = EnrollmentFilter
    owner_field = "user"
    owner_staff_roles = ENROLLMENT_STAFF

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        context["now"] = timezone.now()
        user = self.request.user
        # Finance sees enrollments, not what guardians wrote for the educator.
        context["hide_needs"] = not has_any_role(user, EDUCATION_STAFF)
        context["viewer"] = user.pk
        return context

    def _output(self, enrollment: Enrollment, code: int = status.HTTP_200_OK) -> Response:
        enrollment = selectors.enrollment_list().get(pk=enrollment.pk)
        context = self.get_serializer_context()
        return Response(EnrollmentSerializer(enrollment, context=context).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Enrol participants. A free session confirms at once; a paid one answers with the
        `order` holding the seats (pay it at `/api/v1/payments/orders/{id}/pay/`); a full one
        is 409 `session_full` unless `"waitlist": true` (then 201, `waitlisted`)."""
        return idempotent(self, request, lambda: self._create(request))

    def _create(self, request: Request) -> Response:
        data = EnrollmentCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        # One of a program that is not public is refused by the service, like a missing one.
        session = selectors.session_find(session_id=values.pop("session"))
        if session is None:
            raise ServiceError(
                _("There is no such session."), code=errors.SESSION_NOT_FOUND, field="session"
            )
        enrollment = services.enrollment_create(
            actor=signed_in_user(request), session=session, **values
        )
        return self._output(enrollment, status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="education_enrollments_cancel",
        request=EnrollmentCancelInput,
        responses={200: EnrollmentSerializer},
        filters=False,
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel the enrollment, or some participants (`participants`: their ids). Paid
        seats are refunded through the gateway; freed seats go to the waitlist."""
        enrollment = self.get_object()
        actor = signed_in_user(request)
        if enrollment.user_id != actor.pk and not has_any_role(actor, EDUCATION_STAFF):
            self.permission_denied(request, message=_("Only the education department cancels it."))
        data = EnrollmentCancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        enrollment = services.enrollment_cancel(
            actor=actor,
            enrollment=enrollment,
            participant_ids=data.validated_data.get("participants"),
            reason=data.validated_data["reason"],
        )
        return self._output(enrollment)

    @extend_schema(
        operation_id="education_enrollments_accept_offer",
        request=None,
        responses={200: EnrollmentSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        filters=False,
    )
    @action(detail=True, methods=["post"], url_path="accept-offer")
    def accept_offer(self, request: Request, pk: str | None = None) -> Response:
        """Take the seats offered to this waitlisted enrollment. A free session confirms; a
        paid one answers with the `order` to pay."""
        enrollment = self.get_object()
        actor = signed_in_user(request)
        if enrollment.user_id != actor.pk:
            self.permission_denied(
                request, message=_("Only the visitor who enrolled accepts the offer.")
            )
        return idempotent(
            self,
            request,
            lambda: self._output(
                services.enrollment_accept_offer(actor=actor, enrollment=enrollment)
            ),
        )
