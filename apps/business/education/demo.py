"""Demo data of the education department: five public programs (one free), two instructors
with the educator role, a month of sessions at the park's sections and habitats, and
enrollments made through the real services — paid ones paid with the sandbox gateway, one
session full with a family on its waitlist, one tomorrow (its reminders are due).

Every session is placed from the day the seed runs: a turtle tour tomorrow, then each program
on its weekday over the next four weeks (school visits on Wednesdays, family tours on
Saturdays…), never on a day the park is closed. Running the seed again schedules nothing
while a demo session is still ahead; once they have all taken place it schedules the next
month.
"""

from calendar import FRIDAY, SATURDAY, THURSDAY, TUESDAY, WEDNESDAY
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from django.contrib.auth.models import Group
from django.utils import timezone

from apps.business.infrastructure.models import Habitat, Section
from apps.business.payments import services as payments
from apps.business.payments.models import PaymentMethod
from apps.business.tickets.models import Closure
from apps.business.wildlife.models import Species
from apps.support.common.demo import DemoAccount, DemoContext, demo_step
from apps.support.security.demo import DEMO_PASSWORD
from apps.support.security.demo import _account as demo_account  # as the other accounts
from apps.support.security.models import User
from apps.support.security.roles import Role

from . import services
from .models import EnrollmentStatus, Instructor, Program, Session

# email, first name, last name, specialties, short bio (es), short bio (en)
INSTRUCTORS = [
    (
        "marina.solano@parquemarino.test",
        "Marina",
        "Solano",
        ["tortugas marinas", "educación familiar"],
        "Bióloga marina; coordina el programa de tortugas del parque desde 2018.",
        "Marine biologist; she has run the park's sea turtle programme since 2018.",
    ),
    (
        "diego.arias@parquemarino.test",
        "Diego",
        "Arias",
        ["arrecifes", "calidad del agua"],
        "Profesor de ciencias y buzo; guía las visitas escolares y el taller de biología.",
        "Science teacher and diver; he leads the school visits and the biology workshop.",
    ),
]

# Visitors who enrol in the demo (the demo visitor, visitor@parquemarino.test, too).
FAMILIES = [
    ("familia.mora@parquemarino.test", "Carmen", "Mora"),
    ("familia.rojas@parquemarino.test", "Luis", "Rojas"),
    ("escuela.esperanza@parquemarino.test", "Rosa", "Quesada"),
]

PROGRAMS: list[dict[str, Any]] = [
    {
        "slug": "tortugas-marinas",
        "title_es": "Tortugas marinas",
        "title_en": "Sea turtles",
        "summary_es": "Recorrido guiado en familia por la piscina de tortugas: cómo viven, qué "
        "comen y por qué las rescatamos.",
        "summary_en": "A guided family walk around the turtle pool: how they live, what they "
        "eat and why we rescue them.",
        "description_es": "Una educadora presenta a las tortugas verde, lora y carey del centro "
        "de rescate, cuenta su viaje desde las playas de anidación del Pacífico y responde las "
        "preguntas de grandes y pequeños. Incluido con la entrada al parque.",
        "description_en": "An educator introduces the green, olive ridley and hawksbill turtles "
        "of the rescue centre, tells of their journey from the Pacific nesting beaches and "
        "answers everyone's questions. Included with the park's admission.",
        "audience": "families",
        "min_age": 3,
        "max_age": None,
        "duration_minutes": 60,
        "price": Decimal("0.00"),
        "min_participants": 1,
        "max_participants": 20,
        "requirements_es": "Las personas menores de edad vienen acompañadas por una adulta.",
        "requirements_en": "Children come with an adult.",
        "species": ["Chelonia mydas", "Lepidochelys olivacea", "Eretmochelys imbricata"],
        "sections": ["Mar Abierto"],
    },
    {
        "slug": "visita-escolar",
        "title_es": "Visita escolar: la vida en el arrecife",
        "title_en": "School visit: life on the reef",
        "summary_es": "Para grupos de primaria: el arrecife del Pacífico, sus peces y cómo se "
        "cuida el agua de un acuario.",
        "summary_en": "For primary school groups: the Pacific reef, its fish and how an "
        "aquarium's water is looked after.",
        "description_es": "Recorrido por el Gran Tanque Arrecife con fichas de trabajo, una "
        "prueba de calidad del agua con el equipo de acuaristas y una charla sobre los "
        "arrecifes de Costa Rica. Material para el aula incluido.",
        "description_en": "A walk around the Great Reef Tank with worksheets, a water quality "
        "test with the aquarists and a talk on Costa Rica's reefs. Classroom material "
        "included.",
        "audience": "schools",
        "min_age": 6,
        "max_age": 12,
        "duration_minutes": 120,
        "price": Decimal("2500.00"),
        "min_participants": 10,
        "max_participants": 40,
        "requirements_es": "Un docente por cada 15 estudiantes.",
        "requirements_en": "One teacher for every 15 students.",
        "species": [
            "Holacanthus passer",
            "Johnrandallia nigrirostris",
            "Hippocampus ingens",
            "Prionurus punctatus",
        ],
        "sections": ["Arrecife del Pacífico"],
    },
    {
        "slug": "campamento-de-verano",
        "title_es": "Campamento de verano marino",
        "title_en": "Marine summer camp",
        "summary_es": "Una jornada de campamento: talleres, juegos y una visita tras bastidores "
        "al manglar y al arrecife.",
        "summary_en": "A day of camp: workshops, games and a behind-the-scenes visit to the "
        "mangrove and the reef.",
        "description_es": "De 8:30 a 14:30, en grupos pequeños con dos educadores: cómo respira "
        "un manglar, quién vive en el estuario y cómo se prepara la comida de los animales.",
        "description_en": "From 8:30 to 14:30, in small groups with two educators: how a "
        "mangrove breathes, who lives in the estuary and how the animals' food is prepared.",
        "audience": "children",
        "min_age": 8,
        "max_age": 13,
        "duration_minutes": 360,
        "price": Decimal("25000.00"),
        "min_participants": 6,
        "max_participants": 20,
        "requirements_es": "Traer merienda, bloqueador solar y ropa de cambio.",
        "requirements_en": "Bring a snack, sunscreen and a change of clothes.",
        "species": ["Urobatis halleri", "Lutjanus argentiventris"],
        "sections": ["Manglar y Estuario", "Arrecife del Pacífico"],
    },
    {
        "slug": "cuidador-por-un-dia",
        "title_es": "Cuidador por un día",
        "title_en": "Keeper for a day",
        "summary_es": "Acompañe al equipo de acuaristas: prepare el alimento, participe en una "
        "alimentación y conozca el centro de rescate.",
        "summary_en": "Join the aquarists: prepare the food, help at a feeding and see the "
        "rescue centre.",
        "description_es": "Una mañana con el equipo que cuida a los animales: la cocina, la "
        "alimentación de las rayas y del tiburón gata, las rutinas del centro de rescate.",
        "description_en": "A morning with the team that looks after the animals: the kitchen, "
        "feeding the rays and the nurse shark, the routines of the rescue centre.",
        "audience": "adults",
        "min_age": 16,
        "max_age": None,
        "duration_minutes": 240,
        "price": Decimal("35000.00"),
        "min_participants": 1,
        "max_participants": 6,
        "requirements_es": "Desde los 16 años; calzado cerrado.",
        "requirements_en": "From age 16; closed shoes.",
        "species": ["Ginglymostoma cirratum", "Urobatis halleri"],
        "sections": ["Centro de Rescate"],
    },
    {
        "slug": "taller-biologia-marina",
        "title_es": "Taller de biología marina",
        "title_en": "Marine biology workshop",
        "summary_es": "Microscopios, plancton y calidad del agua: un laboratorio de verdad "
        "para jóvenes y adultos.",
        "summary_en": "Microscopes, plankton and water quality: a real laboratory for "
        "teenagers and adults.",
        "description_es": "Tomamos muestras de los tanques, observamos el plancton al "
        "microscopio y medimos el agua como lo hace el equipo de acuaristas cada día.",
        "description_en": "We take samples from the tanks, look at plankton under the "
        "microscope and test the water as the aquarists do every day.",
        "audience": "adults",
        "min_age": 12,
        "max_age": None,
        "duration_minutes": 150,
        "price": Decimal("8000.00"),
        "min_participants": 4,
        "max_participants": 16,
        "requirements_es": "",
        "requirements_en": "",
        "species": ["Mobula birostris", "Rhincodon typus"],
        "sections": ["Mar Abierto"],
    },
]

MARINA, DIEGO = (email for email, *_ in INSTRUCTORS)

# program: its place (a habitat or a section, by name), its instructors, the weekday and time
# of its sessions, and the weeks they take place in (0: the first such weekday after tomorrow).
SCHEDULE: dict[str, tuple[tuple[str, str], tuple[str, ...], int, time, tuple[int, ...]]] = {
    "tortugas-marinas": (
        ("habitat", "Piscina de Tortugas"),
        (MARINA,),
        SATURDAY,
        time(10),
        (0, 1, 2, 3),
    ),
    "visita-escolar": (
        ("section", "Arrecife del Pacífico"),
        (DIEGO,),
        WEDNESDAY,
        time(9),
        (0, 1, 2, 3),
    ),
    "taller-biologia-marina": (("section", "Mar Abierto"), (DIEGO,), THURSDAY, time(14), (0, 2)),
    "campamento-de-verano": (
        ("section", "Manglar y Estuario"),
        (MARINA, DIEGO),
        TUESDAY,
        time(8, 30),
        (1, 3),
    ),
    "cuidador-por-un-dia": (("section", "Centro de Rescate"), (MARINA,), FRIDAY, time(8), (0, 2)),
}
# And a turtle tour tomorrow at 10:00, whatever the day: its reminders are due.
TOMORROW = "tomorrow"
# A session: its program and the n-th of its sessions (or TOMORROW).
SessionKey = tuple[str, int | str]
# The first Saturday's tour has eight seats: two families of four fill it.
SMALL: dict[SessionKey, int] = {("tortugas-marinas", 0): 8}


def _person(name: str, age: int, needs: str = "") -> dict[str, Any]:
    """A participant whose age the program checks (a child, or an adult in an adults'
    program)."""
    return {"name": name, "age": age, "needs": needs}


def _adult(name: str, role: str = "guardian") -> dict[str, Any]:
    """An adult who accompanies children (no age needed)."""
    return {"name": name, "role": role}


# A fourth-grade class of 24.
STUDENTS = [
    {"name": name, "age": 10, "role": "student"}
    for name in [
        "Ana Alfaro",
        "Bryan Brenes",
        "Camila Castro",
        "Daniel Díaz",
        "Elena Espinoza",
        "Fabián Fallas",
        "Gabriela Gómez",
        "Hugo Herrera",
        "Isabel Ibarra",
        "José Jiménez",
        "Karla Kopper",
        "Leonardo León",
        "María Monge",
        "Nicolás Núñez",
        "Olga Obando",
        "Pablo Porras",
        "Rebeca Quirós",
        "Samuel Rodríguez",
        "Tatiana Solís",
        "Ulises Torres",
        "Valeria Ulate",
        "Walter Vargas",
        "Ximena Villalobos",
        "Yerlin Zúñiga",
    ]
]

# session, who enrols, participants, school, waitlist. The first Saturday's tour is full:
# the demo visitor's family waits.
ENROLLMENTS: list[tuple[SessionKey, str, list[dict[str, Any]], str, bool]] = [
    (
        ("tortugas-marinas", TOMORROW),
        "visitor@parquemarino.test",
        [_adult("Vera Visitante"), _person("Tomás Visitante", 7)],
        "",
        False,
    ),
    (
        ("tortugas-marinas", 0),
        "familia.mora@parquemarino.test",
        [
            _adult("Carmen Mora"),
            _adult("Jorge Mora"),
            _person("Ana Mora", 9),
            _person("Sofía Mora", 6, "Asma: trae su inhalador."),
        ],
        "",
        False,
    ),
    (
        ("tortugas-marinas", 0),
        "familia.rojas@parquemarino.test",
        [
            _adult("Luis Rojas"),
            _adult("Paula Rojas"),
            _person("Mateo Rojas", 8),
            _person("Valentina Rojas", 5),
        ],
        "",
        False,
    ),
    (
        ("tortugas-marinas", 0),
        "visitor@parquemarino.test",
        [_adult("Vera Visitante"), _person("Tomás Visitante", 7), _person("Lucía Visitante", 4)],
        "",
        True,
    ),
    (
        ("visita-escolar", 0),
        "escuela.esperanza@parquemarino.test",
        [*STUDENTS, _adult("Rosa Quesada", "teacher"), _adult("Jorge Campos", "teacher")],
        "Escuela La Esperanza",
        False,
    ),
    (
        ("taller-biologia-marina", 0),
        "familia.rojas@parquemarino.test",
        [_person("Luis Rojas", 41), _person("Camila Rojas", 15)],
        "",
        False,
    ),
    (
        ("campamento-de-verano", 0),
        "familia.mora@parquemarino.test",
        [_person("Ana Mora", 9, "Alergia al maní."), _person("Andrés Mora", 11)],
        "",
        False,
    ),
    (
        ("cuidador-por-un-dia", 0),
        "visitor@parquemarino.test",
        [_person("Vera Visitante", 34), _person("Pablo Jiménez", 36)],
        "",
        False,
    ),
]


@demo_step(order=44, name="education.catalogue")
def create_catalogue(context: DemoContext) -> None:
    """The instructors' accounts and profiles and the programs, through the services (an
    unchanged program or profile is not written again)."""
    educators = Group.objects.get(name=Role.EDUCATOR)
    for email, first_name, last_name, specialties, bio_es, bio_en in INSTRUCTORS:
        user = demo_account(email, first_name, last_name, staff=True)
        if not user.groups.filter(pk=educators.pk).exists():
            user.groups.add(educators)
        context.accounts.append(
            DemoAccount(email=email, password=DEMO_PASSWORD, role=Role.EDUCATOR)
        )
        profile = {"specialties": specialties, "bio_es": bio_es, "bio_en": bio_en}
        instructor = Instructor.objects.filter(user=user).first()
        if instructor is None:
            services.instructor_create(user=user, data=profile)
        else:
            services.instructor_update(instructor=instructor, data=profile)
    for email, first_name, last_name in FAMILIES:
        demo_account(email, first_name, last_name, staff=False)
        context.accounts.append(DemoAccount(email=email, password=DEMO_PASSWORD, role="visitor"))
    for fields in PROGRAMS:
        data = {
            **fields,
            "currency": "CRC",
            "is_public": True,
            "species": list(Species.objects.filter(scientific_name__in=fields["species"])),
            "sections": list(Section.objects.filter(name_es__in=fields["sections"])),
        }
        program = Program.objects.filter(slug=fields["slug"]).first()
        if program is None:
            services.program_create(data=data)
        else:
            services.program_update(program=program, data=data)


def _dates(tomorrow: date, weekday: int, weeks: Sequence[int], closed: set[date]) -> list[date]:
    """The ``weekday`` of each of ``weeks`` after tomorrow; one the park is closed (a holiday)
    moves to a week after the last (never one another session of the program has)."""
    first = tomorrow + timedelta(days=(weekday - tomorrow.weekday() - 1) % 7 + 1)
    spare = count(max(weeks) + 1)
    dates = []
    for week in weeks:
        day = first + timedelta(weeks=week)
        while day in closed:
            day = first + timedelta(weeks=next(spare))
        dates.append(day)
    return dates


def _schedule(actor: User, tomorrow: date) -> dict[SessionKey, Session]:
    programs = {program.slug: program for program in Program.objects.all()}
    instructors = {i.user.email: i for i in Instructor.objects.select_related("user")}
    closed = set(Closure.objects.filter(date__gt=tomorrow).values_list("date", flat=True))
    sessions = {}
    for slug, ((kind, name), leaders, weekday, at, weeks) in SCHEDULE.items():
        days: list[tuple[int | str, date]] = list(
            enumerate(_dates(tomorrow, weekday, weeks, closed))
        )
        if slug == "tortugas-marinas":
            days.append((TOMORROW, tomorrow))
        habitat = Habitat.objects.get(name=name) if kind == "habitat" else None
        section = Section.objects.get(name_es=name) if kind == "section" else None
        for key, day in days:
            sessions[slug, key] = services.session_create(
                actor=actor,
                program=programs[slug],
                starts_at=datetime.combine(day, at, tzinfo=timezone.get_current_timezone()),
                instructors=[instructors[email] for email in leaders],
                capacity=SMALL.get((slug, key)),
                habitat=habitat,
                section=section,
            )
    return sessions


def _enrol(
    session: Session, email: str, people: Sequence[dict[str, Any]], school: str, waitlist: bool
) -> None:
    visitor = User.objects.get(email=email)
    enrollment = services.enrollment_create(
        actor=visitor,
        session=session,
        participants=people,
        school_name=school,
        waitlist=waitlist,
    )
    if enrollment.status == EnrollmentStatus.PENDING_PAYMENT and enrollment.order is not None:
        payments.order_pay(order=enrollment.order, actor=visitor, method=PaymentMethod.SANDBOX)


@demo_step(order=44, name="education.sessions")
def create_sessions_and_enrollments(context: DemoContext) -> None:
    """A month of sessions scheduled by the department's educator, and the visitors'
    enrollments in them. Nothing while a demo session is still ahead (run again the same
    day, the data stay as they are)."""
    if Session.objects.filter(program__slug__in=SCHEDULE, starts_at__gt=timezone.now()).exists():
        return
    educator = User.objects.get(email="educator@parquemarino.test")
    sessions = _schedule(educator, timezone.localdate() + timedelta(days=1))
    for key, email, people, school, waitlist in ENROLLMENTS:
        _enrol(sessions[key], email, people, school, waitlist)
