from datetime import date, datetime, time, timedelta

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone

from api.filters import IntegerFilter
from apps.business.education.models import (
    Enrollment,
    EnrollmentStatus,
    Program,
    Session,
)

# Beyond these days a time zone's offset could take a date-time out of range; no session is.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9999, 12, 30)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


class ProgramFilter(django_filters.FilterSet):
    species = IntegerFilter(field_name="species")
    section = IntegerFilter(field_name="sections")

    class Meta:
        model = Program
        fields = ("audience", "is_public", "species", "section")


class SessionFilter(django_filters.FilterSet):
    """The public calendar: ``?program=&from=&to=&available=true`` (``from`` and ``to`` are
    the park's dates, both included)."""

    program = IntegerFilter(field_name="program")
    available = django_filters.BooleanFilter(
        field_name="available", label="Open for enrolment with seats left"
    )
    instructor = IntegerFilter(field_name="instructors")

    class Meta:
        model = Session
        fields = ("program", "status", "habitat", "section", "available", "instructor")

    def filter_from(self, queryset: QuerySet[Session], name: str, value: date) -> QuerySet[Session]:
        if value <= FIRST_DAY:  # every session, and no date-time out of range
            return queryset
        return queryset.filter(starts_at__gte=_day_start(value))

    def filter_to(self, queryset: QuerySet[Session], name: str, value: date) -> QuerySet[Session]:
        if value >= LAST_DAY:
            return queryset
        return queryset.filter(starts_at__lt=_day_start(value + timedelta(days=1)))


# ``from`` is a Python keyword: declared after the class.
SessionFilter.base_filters["from"] = django_filters.DateFilter(
    method="filter_from", label="Sessions starting on or after this date"
)
SessionFilter.base_filters["to"] = django_filters.DateFilter(
    method="filter_to", label="Sessions starting on or before this date"
)


class EnrollmentFilter(django_filters.FilterSet):
    session = IntegerFilter(field_name="session")
    program = IntegerFilter(field_name="session__program")
    status = django_filters.ChoiceFilter(
        choices=EnrollmentStatus.choices,
        method="filter_status",
        label="Status as shown: an offer or hold that ran out is cancelled",
    )

    class Meta:
        model = Enrollment
        fields = ("session", "program", "status")

    def filter_status(
        self, queryset: QuerySet[Enrollment], name: str, value: str
    ) -> QuerySet[Enrollment]:
        now = timezone.now()
        ran_out = Q(status=EnrollmentStatus.OFFERED, offer_expires_at__lte=now) | Q(
            status=EnrollmentStatus.PENDING_PAYMENT, hold_expires_at__lte=now
        )
        if value == EnrollmentStatus.CANCELLED:
            return queryset.filter(Q(status=value) | ran_out)
        return queryset.filter(status=value).exclude(ran_out)
