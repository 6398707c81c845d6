"""Schemathesis walks every operation of /api/v1/schema/ as three callers: anonymous, a visitor
(signed in, no role) and an administrator, with every check schemathesis has.

Checks: no 5xx; status code, content type, headers and body as the schema says; schema-valid
requests accepted and schema-invalid ones refused; a missing required header, an undeclared
method and a request without (or with wrong) credentials refused as they should be; deleted
resources gone, created ones there. Timing is never asserted (docs/development).

The park holds a little of everything (public and private animals, a released one, orders,
tickets, readings...), created once for the module; each operation's run is rolled back. A
schema-valid request names objects that exist: a path's first ``{id}``, and the ids a body or
a filter refers to (``habitat``, ``species``, ``slot``...), point at objects the caller can list.

How much runs: each operation gets the coverage phase (boundary values, each constraint
broken in turn, missing parameters, undeclared methods) once, as the least privileged caller
docs/api/permissions.md lets in, and ``FUZZ_EXAMPLES`` random cases as every caller it lets in;
a caller it refuses gets a few random cases (they all answer 401/403). Derandomized, so CI is
repeatable; explore with ``FUZZ_RANDOM=1 FUZZ_EXAMPLES=200 make pytest
PYTEST_ARGS=tests/test_api_fuzz.py``.
"""

import os
import zlib
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from werkzeug.test import Client

from apps.support.security.roles import Role
from config.wsgi import application
from tests.factories import (
    UserFactory,
)
from tests.helpers import bearer, staff_member
from tests.park import fill_the_park
from tests.security.test_permission_matrix import documented_matrix

# Random cases per operation and caller; a caller who is refused gets a few only.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
REFUSED_EXAMPLES = min(EXAMPLES, 2)
RANDOM = bool(os.environ.get("FUZZ_RANDOM"))
STATEFUL = bool(os.environ.get("FUZZ_STATEFUL"))
SEED = 20261130
COLLECT = os.environ.get("FUZZ_COLLECT")  # a file: record failures instead of failing

CALLERS = ("anonymous", "visitor", Role.ADMINISTRATOR)

RAW_SCHEMA = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application).raw_schema
MATRIX = documented_matrix()

# Body fields and filters that name another object, and where the caller lists those.
REFERENCES = {
    "habitat": "/api/v1/infrastructure/habitats/",
    "section": "/api/v1/infrastructure/sections/",
    "species": "/api/v1/wildlife/species/",
    "animal": "/api/v1/wildlife/animals/",
    "conservation_status": "/api/v1/wildlife/conservation-statuses/",
    "slot": "/api/v1/tickets/slots/",
    "ticket_type": "/api/v1/tickets/ticket-types/",
    "order": "/api/v1/payments/orders/",
    "actor": "/api/v1/security/users/",
    "user": "/api/v1/security/users/",
    "program": "/api/v1/education/programs/",
    "session": "/api/v1/education/sessions/",
    "enrollment": "/api/v1/education/enrollments/",
    "instructor": "/api/v1/education/instructors/",
    "campaign": "/api/v1/payments/campaigns/",
    "hero_image": "/api/v1/exhibitions/images/",
    "image": "/api/v1/exhibitions/images/",
    "folder": "/api/v1/documents/folders/",
    "parent": "/api/v1/documents/folders/",
    # Lists of ids.
    "instructors": "/api/v1/education/instructors/",
    "animals": "/api/v1/wildlife/animals/",
    "habitats": "/api/v1/infrastructure/habitats/",
    "programs": "/api/v1/education/programs/",
    "sections": "/api/v1/infrastructure/sections/",
}

# Schema-valid requests these operations refuse with 400 for a reason a schema cannot state.
# positive_data_acceptance accepts 400 from them, and from no other operation.
BUSINESS_RULES = {
    "auth_register": "Django's password rules; an email already registered",
    "auth_password_change": "the current password must be right; Django's password rules",
    "auth_password_reset_confirm": "uid and token must be a link the server sent",
    "security_users_create": "Django's password rules; an email already registered",
    "payments_orders_create": "a line's slot and ticket type must be on sale together; an "
    "enrollment line's participants must fit the program's ages, and its session be paid; "
    "a donation's amount within the park's limits, its campaign taking gifts, one gift a line; "
    "a guest gives only, with an email; an Idempotency-Key already used for another request",
    "payments_orders_pay": "the gateway must be enabled here, sandbox options go with the "
    "sandbox only; an Idempotency-Key already used for another request",
    "payments_orders_refunds_create": "the lines must be lines of that order; some lines or "
    "an amount, not both; an Idempotency-Key already used for another request",
    "payments_webhooks_receive": "the gateway must be enabled here and sign the delivery",
    "payments_reports_reconciliation": "the day must not be in the future nor before 2000",
    "payments_reports_reconciliation_fetch": "the day must not be in the future nor before 2000",
    "tickets_check_ins_create": "the code must be one the park signed",
    "payments_reports_sales": "`to` not before `from`; 366 days at most",
    "payments_reports_refunds": "`to` not before `from`; 366 days at most",
    "payments_reports_donations": "`to` not before `from`; 366 days at most",
    "tickets_slots_list": "`date`, or a range of `date_from`..`date_to`: not both; a range of "
    "62 days at most, not reversed",
    "tickets_attendance": "`date`, or a range of `date_from`..`date_to`: not both; a range of "
    "62 days at most, not reversed",
    "tickets_closures_create": "one closure per day; today up to ten years ahead",
    "tickets_slots_generate": "from today up to ten years ahead",
    "tickets_schedules_create": "closes after it opens; valid_until not before valid_from",
    "tickets_schedules_partial_update": "closes after it opens; valid_until not before valid_from",
    "tickets_ticket_types_create": "codes are unique; valid_until not before valid_from",
    "tickets_ticket_types_partial_update": "codes are unique; valid_until not before valid_from",
    "infrastructure_sections_create": "names are unique",
    "infrastructure_sections_partial_update": "names are unique",
    "infrastructure_habitats_create": "names are unique",
    "infrastructure_habitats_partial_update": "names are unique",
    "infrastructure_water_ranges_create": "minimum not above maximum; the habitat holds water",
    "infrastructure_water_readings_create": "at least one value; the habitat holds water",
    "wildlife_species_create": "scientific names are unique",
    "wildlife_species_partial_update": "scientific names are unique",
    "wildlife_species_images_create": "the file must be a JPEG, PNG or WebP image",
    "wildlife_animals_create": "institutional ids and transponders are unique",
    "wildlife_animals_partial_update": "transponders are unique",
    "education_programs_create": "slugs are unique; min_participants not above "
    "max_participants, min_age not above max_age",
    "education_instructors_create": "the user must be an active account with the educator role "
    "and not an instructor yet",
    "education_sessions_create": "starts in the future, ends after it starts, enrolment closes "
    "before; a habitat, or a whole section (both only when they agree); active instructors",
    "education_programs_partial_update": "slugs are unique; min_participants not above "
    "max_participants; min_age not above max_age",
    "education_programs_images_create": "the file must be a JPEG, PNG or WebP image",
    "education_sessions_partial_update": "starts in the future, ends after it starts, enrolment "
    "closes before it starts; a habitat, or a whole section (both only when they agree); "
    "instructors active",
    "education_sessions_attendance": "every participant expected, each once, nobody else",
    "payments_campaigns_create": "slugs are unique; ends after it starts; the park's "
    "currency; suggested amounts within the park's donation limits",
    "payments_campaigns_partial_update": "slugs are unique; ends after it starts; the park's "
    "currency; suggested amounts within the park's donation limits",
    "payments_campaigns_image_update": "the file must be a JPEG, PNG or WebP image",
    "education_enrollments_cancel": "the participants named must still be enrolled in it",
    "exhibitions_list": "picture sizes must be among the park's renditions",
    "exhibitions_retrieve": "picture sizes must be among the park's renditions",
    "exhibitions_preview_retrieve": "picture sizes must be among the park's renditions",
    "exhibitions_create": "slugs are unique and not reserved; closes on or after it opens; a "
    "habitat in the section given; each body block of its type's shape",
    "exhibitions_partial_update": "slugs are unique and not reserved; closes on or after it "
    "opens; a habitat in the section given; each body block of its type's shape",
    "exhibitions_publish": "a time not past, before a scheduled unpublication",
    "exhibitions_unpublish": "a time not past, after a scheduled publication",
    "exhibitions_revisions_compare": "a and b must be revisions of that exhibition",
    "exhibitions_images_create": "the file must be a JPEG, PNG or WebP image",
    "documents_create": "the file's bytes must be of an accepted type (PDF, pictures, office "
    "documents, CSV) within DOCUMENTS_MAX_UPLOAD_BYTES; the records named must exist",
    "documents_versions_create": "the file's bytes must be of an accepted type within "
    "DOCUMENTS_MAX_UPLOAD_BYTES",
    "documents_partial_update": "the records named must exist",
    "documents_folders_create": "a sub-folder is seen by no more people than its parent; "
    "names are unique in their parent",
    "documents_folders_partial_update": "a sub-folder is seen by no more people than its "
    "parent, a folder by no fewer than its sub-folders; names unique in their parent; not "
    "inside itself",
    "education_enrollments_create": "the session must exist and be of a public program; "
    "an age or birth date the program admits for each participant but teachers and "
    "guardians; at most EDUCATION_MAX_PARTICIPANTS",
}
ACCEPTED_WITH_BUSINESS_RULES = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
# Operations whose body is multipart/form-data with several text fields, where
# negative_data_rejection cannot judge a type change: a form carries every value as text, so a
# title generated as the number 0 arrives as the text "0", a valid title. Their refusals of
# missing, blank, too long and unknown fields are tested in their modules' tests.
FORM_BODIES = {
    "documents_create": "title, folder, note, description, tags and the ids of records travel "
    "as text in a form",
}


def schema_for(caller: str) -> Any:
    """The schema as ``caller`` fuzzes it: every check on; the coverage phase only for the
    operations where ``caller`` is the least privileged caller let in."""
    allowed = [name for name, row in MATRIX.items() if row[caller]]
    earlier = CALLERS[: CALLERS.index(caller)]
    covered = [name for name in allowed if not any(MATRIX[name][other] for other in earlier)]
    refused = sorted(set(MATRIX) - set(allowed))
    operations: list[dict[str, Any]] = [
        {
            "include-operation-id": sorted(BUSINESS_RULES),
            "checks": {
                "positive_data_acceptance": {"expected-statuses": ACCEPTED_WITH_BUSINESS_RULES}
            },
        },
        {
            "include-operation-id": sorted(set(MATRIX) - set(covered)),
            "phases": {"coverage": {"enabled": False}},
        },
        {
            "include-operation-id": sorted(FORM_BODIES),
            "checks": {"negative_data_rejection": {"enabled": False}},
        },
    ]
    if refused:
        operations.append(
            {"include-operation-id": refused, "generation": {"max-examples": REFUSED_EXAMPLES}}
        )
    config: dict[str, Any] = {
        "generation": {"max-examples": EXAMPLES, "deterministic": not RANDOM},
        "operations": operations,
    }
    if not RANDOM:
        config["seed"] = SEED
    schema = schemathesis.openapi.from_dict(
        RAW_SCHEMA, config=schemathesis.Config.from_dict(config)
    )
    schema.app = application
    return schema


FUZZ = settings(
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


# --- The park ---------------------------------------------------------------------------


@dataclass
class Park:
    users: dict[str, Any]
    # Per caller: "/api/v1/<collection>/" -> the lookup values the caller can list there.
    known: dict[str, dict[str, list[Any]]] = field(default_factory=dict)

    def headers(self, caller: str) -> dict[str, str]:
        user = self.users.get(caller)
        return bearer(user) if user is not None else {}


def _known_values(caller: str, users: dict[str, Any]) -> dict[str, list[Any]]:
    """What each collection of the schema lists for ``caller``: the first path parameter of
    an item path is taken from there."""
    client = Client(application)
    user = users.get(caller)
    headers = bearer(user) if user else {}
    known: dict[str, list[Any]] = {}
    for path in RAW_SCHEMA["paths"]:
        if "{" not in path:
            continue
        collection, rest = path.split("{", 1)
        name = rest.split("}", 1)[0]
        if collection in known or "get" not in RAW_SCHEMA["paths"].get(collection, {}):
            continue
        response = client.get(collection, query_string={"page_size": 100}, headers=headers)
        body = response.json if response.status_code == 200 else []
        rows = body["results"] if isinstance(body, dict) else body
        known[collection] = [row[name] for row in rows if isinstance(row, dict) and name in row]
    return known


@pytest.fixture(scope="module")
def park(django_db_setup, django_db_blocker):
    """The park, in a transaction of its own rolled back after the module (each test's own
    transaction nests inside it). The WSGI handler closes the connection after each request,
    as in production; here that would end these transactions, so it is switched off."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        # The test's own wrapper, like a TestCase's: code that must run outside transactions
        # (a gateway call, ensure_outside_transaction) does not count it.
        atomic._from_testcase = True
        atomic.__enter__()
        try:
            visitor = UserFactory(email="visitor@parquemarino.test")
            administrator = staff_member(Role.ADMINISTRATOR, email="root@parquemarino.test")
            fill_the_park(administrator, visitor)
            users = {"anonymous": None, "visitor": visitor, Role.ADMINISTRATOR: administrator}
            park = Park(users=users)
            for caller in CALLERS:
                park.known[caller] = _known_values(caller, users)
            yield park
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)


def _pick(values: list[Any], generated: Any) -> Any:
    return values[zlib.crc32(str(generated).encode()) % len(values)]


def _point_at_known_objects(case: Any, park: Park, caller: str) -> None:
    """Schema-valid ids name objects the caller can list (or, when the caller lists nothing
    there, ones the administrator can), picked by the generated value."""
    known = park.known[caller]
    fallback = park.known[Role.ADMINISTRATOR]

    def values(collection: str) -> list[Any]:
        return known.get(collection) or fallback.get(collection) or []

    def positive(location: ParameterLocation) -> bool:
        return case.meta is None or not case.meta.is_negative_at(location)

    if case.path_parameters and positive(ParameterLocation.PATH):
        collection, rest = case.path.split("{", 1)
        name = rest.split("}", 1)[0]
        if values(collection):
            case.path_parameters = {
                **case.path_parameters,
                name: _pick(values(collection), case.path_parameters[name]),
            }
    if case.query and positive(ParameterLocation.QUERY):
        query = _with_known_references(case.query, values)
        if query != case.query:
            case.query = query
    if isinstance(case.body, dict | list) and positive(ParameterLocation.BODY):
        body = _with_known_references(case.body, values)
        if body != case.body:  # an untouched body (a file upload) keeps its own checks
            case.body = body


def _with_known_references(data: Any, values: Any) -> Any:
    if isinstance(data, list):
        return [_with_known_references(item, values) for item in data]
    if not isinstance(data, dict):
        return data
    pointed = {}
    for key, value in data.items():
        collection = REFERENCES.get(key)
        if collection and isinstance(value, int | str) and values(collection):
            pointed[key] = _pick(values(collection), value)
        elif (
            collection
            and isinstance(value, list)
            and all(isinstance(item, int) for item in value)
            and values(collection)
        ):
            pointed[key] = sorted({_pick(values(collection), item) for item in value})
        else:
            pointed[key] = _with_known_references(value, values)
    return pointed


def _exercise(case: Any, park: Park, caller: str) -> None:
    _point_at_known_objects(case, park, caller)
    headers = park.headers(caller) or None
    _validate(case, lambda: case.call_and_validate(headers=headers), caller)


def _validate(case: Any, check: Any, caller: str = Role.ADMINISTRATOR) -> None:
    """Run ``check``; with ``FUZZ_COLLECT``, write its failure down and go on."""
    if not COLLECT:
        check()
        return
    try:
        check()
    except (Exception, FailureGroup) as error:  # recorded, not raised
        with open(COLLECT, "a") as out:
            out.write(f"=== {caller} {case.operation.label}\n{error}\n{case!r}\n\n")


def test_every_check_schemathesis_has_is_on():
    """Each caller's run uses schemathesis' whole registry of checks; only the timing one,
    max_response_time, is off (it has no limit: speed is never asserted in tests)."""
    load_all_checks()
    registered = {check.__name__ for check in CHECKS.get_all()}
    for schema in (anonymous, visitor, administrator):
        config = schema.config.checks_config_for()
        enabled = {name for name in registered if config.get_by_name(name=name).enabled}
        assert enabled == registered
        assert config.max_response_time.enabled is False
    assert registered >= {
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "positive_data_acceptance",
        "negative_data_rejection",
        "missing_required_header",
        "unsupported_method",
        "allow_header_conformance",
        "use_after_free",
        "ensure_resource_availability",
        "ignored_auth",
        "object_level_authorization",
    }


anonymous = schema_for("anonymous")
visitor = schema_for("visitor")
administrator = schema_for(Role.ADMINISTRATOR)


@anonymous.parametrize()
@FUZZ
@pytest.mark.django_db
def test_api_as_anonymous(case, park):
    _exercise(case, park, "anonymous")


@visitor.parametrize()
@FUZZ
@pytest.mark.django_db
def test_api_as_visitor(case, park):
    _exercise(case, park, "visitor")


@administrator.parametrize()
@FUZZ
@pytest.mark.django_db
def test_api_as_administrator(case, park):
    _exercise(case, park, Role.ADMINISTRATOR)


@pytest.mark.skipif(not STATEFUL, reason="sequences take a while: FUZZ_STATEFUL=1 runs them")
@pytest.mark.django_db
def test_api_in_sequences_as_administrator(park):
    """Chains of calls (create, read, change, delete) linked by the ids answers carry: where
    use_after_free and ensure_resource_availability have something to judge."""
    headers = park.headers(Role.ADMINISTRATOR)

    class Walk(administrator.as_state_machine()):
        def setup(self) -> None:
            # Every chain starts from the same park, so Hypothesis can replay it.
            self.savepoint = transaction.savepoint()

        def teardown(self) -> None:
            transaction.savepoint_rollback(self.savepoint)

        def before_call(self, case: Any) -> None:
            _point_at_known_objects(case, park, Role.ADMINISTRATOR)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers}

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            _validate(
                case,
                lambda: case.validate_response(
                    response, headers=headers, transport_kwargs=kwargs, recorder=self.recorder
                ),
            )

    Walk.run(
        settings=settings(
            FUZZ,
            max_examples=EXAMPLES * 4,
            stateful_step_count=10,
            derandomize=not RANDOM,
        )
    )
