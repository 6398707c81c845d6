"""Who may take a seat: the participants as enrolled, checked against the program's rules."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.support.common.errors import ServiceError

from .. import errors
from ..models import ParticipantRole, Session

MAX_AGE = 120  # as the API's ``age`` field takes it
# Accompanying adults: the age rule is the children's, not theirs.
ACCOMPANYING_ROLES = (ParticipantRole.TEACHER, ParticipantRole.GUARDIAN)


@dataclass(frozen=True)
class ParticipantIn:
    name: str
    age: int | None
    birth_date: date | None
    role: str
    needs: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "age": self.age,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "role": self.role,
            "needs": self.needs,
        }


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def checked_participants(
    *, session: Session, participants: Sequence[Mapping[str, Any]], field: str = "participants"
) -> list[ParticipantIn]:
    """The participants, each with an age on the session's day that the program admits
    (teachers and guardians accompany: no age needed); at most
    ``EDUCATION_MAX_PARTICIPANTS`` in one enrollment."""
    if not participants:
        raise ServiceError(
            _("Enrol at least one participant."), code=errors.PARTICIPANTS_REQUIRED, field=field
        )
    if len(participants) > settings.EDUCATION_MAX_PARTICIPANTS:
        raise ServiceError(
            _("At most %(maximum)d participants per enrollment.")
            % {"maximum": settings.EDUCATION_MAX_PARTICIPANTS},
            code=errors.TOO_MANY_PARTICIPANTS,
            field=field,
        )
    program = session.program
    day = timezone.localtime(session.starts_at).date()
    checked = []
    for index, raw in enumerate(participants):
        role = raw.get("role") or ParticipantRole.PARTICIPANT
        birth_date = _as_date(raw.get("birth_date"))
        age = raw.get("age")
        if birth_date is not None:
            if birth_date > day:
                raise ServiceError(
                    _("A birth date after the session cannot be right."),
                    code=errors.AGE_NOT_ADMITTED,
                    field=f"{field}.{index}.birth_date",
                )
            born_age = age_on(birth_date, day)
            if born_age > MAX_AGE:
                raise ServiceError(
                    _("A birth date more than %(years)d years before the session cannot be right.")
                    % {"years": MAX_AGE},
                    code=errors.AGE_NOT_ADMITTED,
                    field=f"{field}.{index}.birth_date",
                )
            if age is not None and age != born_age:
                raise ServiceError(
                    _("The age and the birth date disagree: on %(day)s they are %(age)d.")
                    % {"day": day.isoformat(), "age": born_age},
                    code=errors.AGE_NOT_ADMITTED,
                    field=f"{field}.{index}.age",
                )
            age = born_age
        if role not in ACCOMPANYING_ROLES:
            if age is None:
                raise ServiceError(
                    _("Give the participant's age or birth date."),
                    code=errors.AGE_REQUIRED,
                    field=f"{field}.{index}.age",
                )
            if not program.admits_age(age):
                raise ServiceError(
                    _("%(program)s is for ages %(range)s; %(name)s is %(age)d.")
                    % {
                        "program": program.title,
                        "range": _age_range(program.min_age, program.max_age),
                        "name": raw["name"],
                        "age": age,
                    },
                    code=errors.AGE_NOT_ADMITTED,
                    field=f"{field}.{index}.age",
                )
        checked.append(
            ParticipantIn(
                name=raw["name"],
                age=age,
                birth_date=birth_date,
                role=role,
                needs=raw.get("needs") or "",
            )
        )
    return checked


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _age_range(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f"{minimum}-{maximum}"
    if minimum is not None:
        return _("%(minimum)d and over") % {"minimum": minimum}
    return _("up to %(maximum)d") % {"maximum": maximum}
