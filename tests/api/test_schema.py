"""The OpenAPI schema describes what the API does (api/schema.py and the views' declarations)."""

import random
import re
from decimal import Decimal

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers

from api.schema import NOT_BLANK_PATTERN, decimal_pattern
from tests.security.test_permission_matrix import documented_matrix


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return SchemaGenerator(api_version="v1").get_schema(request=None, public=True)


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


def component(schema, reference):
    return schema["components"]["schemas"][reference["$ref"].rsplit("/", 1)[1]]


def test_anonymous_access_is_declared_exactly_where_anonymous_callers_get_in(schema):
    """``{}`` in ``security`` (no credentials) for the operations docs/api/permissions.md opens
    to anonymous callers (the permission matrix test checks that table against the code)."""
    open_to_anyone = {
        operation["operationId"]
        for _method, _path, operation in operations(schema)
        if {} in operation["security"]
    }
    matrix = documented_matrix()
    assert open_to_anyone == {name for name, row in matrix.items() if row["anonymous"]}
    species = schema["paths"]["/api/v1/wildlife/species/"]
    assert species["get"]["security"] == [{"jwtAuth": []}, {"cookieAuth": []}, {}]
    assert species["post"]["security"] == [{"jwtAuth": []}, {"cookieAuth": []}]


def test_request_bodies_refuse_unknown_fields(schema):
    free_form = []
    for method, path, operation in operations(schema):
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
            body = content["schema"]
            if "$ref" in body:
                body = component(schema, body)
            if body.get("additionalProperties") is not False:
                free_form.append((method, path, media_type))
    # A gateway's webhook is whatever the gateway sends; its signature is what is checked.
    assert free_form == [("POST", "/api/v1/payments/webhooks/{gateway}/", "application/json")]
    components = schema["components"]["schemas"]
    # Nested inputs, PATCH variants and multipart bodies too.
    # An order line is one of the kinds sold here, each strict.
    assert components["OrderLineInputRequest"] == {
        "oneOf": [
            {"$ref": "#/components/schemas/DonationLineInputRequest"},
            {"$ref": "#/components/schemas/EnrollmentLineInputRequest"},
            {"$ref": "#/components/schemas/TicketLineInputRequest"},
        ]
    }
    assert components["DonationLineInputRequest"]["additionalProperties"] is False
    assert components["TicketLineInputRequest"]["additionalProperties"] is False
    assert components["EnrollmentLineInputRequest"]["additionalProperties"] is False
    assert components["PatchedSpeciesRequest"]["additionalProperties"] is False
    image = schema["paths"]["/api/v1/wildlife/species/{id}/images/"]["post"]["requestBody"]
    assert list(image["content"]) == ["multipart/form-data"]
    assert components["SpeciesImageInputRequest"]["additionalProperties"] is False
    # Responses may grow new fields (docs/api/README.md): no such promise there.
    assert "additionalProperties" not in components["Species"]


def test_animals_are_documented_in_both_shapes_a_caller_can_get(schema):
    animals = schema["paths"]["/api/v1/wildlife/animals/"]["get"]["responses"]["200"]
    page = component(schema, animals["content"]["application/json"]["schema"])
    assert page["properties"]["results"]["items"] == {
        "$ref": "#/components/schemas/AnimalForCaller"
    }
    one = schema["paths"]["/api/v1/wildlife/animals/{id}/"]["get"]["responses"]["200"]
    assert one["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AnimalForCaller"
    }
    assert schema["components"]["schemas"]["AnimalForCaller"] == {
        "oneOf": [
            {"$ref": "#/components/schemas/Animal"},
            {"$ref": "#/components/schemas/AnimalPublic"},
        ]
    }
    # Staff workflows answer with the whole record.
    move = schema["paths"]["/api/v1/wildlife/animals/{id}/move/"]["post"]["responses"]["200"]
    assert move["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Animal"}


@pytest.mark.parametrize(
    ("name", "field"),
    [("Animal", "current_habitat"), ("AnimalPublic", "current_habitat"), ("Location", "habitat")],
)
def test_habitats_are_null_once_an_animal_left(schema, name, field):
    habitat = schema["components"]["schemas"][name]["properties"][field]
    assert habitat["nullable"] is True
    assert habitat["allOf"] == [{"$ref": "#/components/schemas/HabitatBrief"}]


def test_idempotency_key_header_declares_its_length_and_characters(schema):
    for path, method in [
        ("/api/v1/payments/orders/", "post"),
        ("/api/v1/payments/orders/{id}/pay/", "post"),
    ]:
        (header,) = [
            parameter
            for parameter in schema["paths"][path][method]["parameters"]
            if parameter["in"] == "header" and parameter["name"] == "Idempotency-Key"
        ]
        assert "required" not in header  # optional
        assert header["schema"] == {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "pattern": "^[!-~]{1,255}$",
        }


def test_a_declined_payment_is_documented(schema):
    responses = schema["paths"]["/api/v1/payments/orders/{id}/pay/"]["post"]["responses"]
    assert responses["402"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert "`payment_declined`" in responses["402"]["description"]


def test_webhook_gateway_is_one_of_the_online_gateways(schema):
    webhook = schema["paths"]["/api/v1/payments/webhooks/{gateway}/"]["post"]
    (gateway,) = webhook["parameters"]
    assert gateway["in"] == "path"
    assert gateway["schema"] == {"type": "string", "enum": ["paypal", "sandbox", "stripe"]}
    assert "`unknown_gateway`" in webhook["responses"]["400"]["description"]
    assert webhook["security"] == [{}]


def test_csv_export_is_text_and_its_errors_json(schema):
    responses = schema["paths"]["/api/v1/audit/events/export/"]["get"]["responses"]
    assert responses["200"]["content"] == {"text/csv": {"schema": {"type": "string"}}}
    media_types = {code: list(response["content"]) for code, response in responses.items()}
    errors = ("400", "401", "403", "404", "405", "429")
    assert media_types == {"200": ["text/csv"], **{code: ["application/json"] for code in errors}}


# "-0" is zero: accepted (and answered as "-0.00").
NOT_NEGATIVE = r"^(?:-0(?:\.0{1,2})?|(?:0|[1-9][0-9]{0,9})(?:\.[0-9]{1,2})?)$"


@pytest.mark.parametrize(
    ("name", "field", "pattern"),
    [
        # Never negative: the model's MinValueValidator / check constraints say so.
        ("TicketTypeRequest", "price", NOT_NEGATIVE),
        ("Order", "total", NOT_NEGATIVE),
        ("Payment", "amount", NOT_NEGATIVE),
        # Greater than zero (the input's min_value is one step above zero, the model says gt 0).
        (
            "WeightInputRequest",
            "weight_kg",
            r"^(?:0\.(?:[1-9][0-9]{0,2}|0[1-9][0-9]{0,1}|00[1-9])|[1-9][0-9]{0,5}(?:\.[0-9]{1,3})?)$",
        ),
        # Water below 0 °C exists: the reading's bounds are -5 to 50.
        (
            "WaterReadingInputRequest",
            "temperature",
            r"^(?:-(?:[0-4](?:\.[0-9]{1,3})?|5(?:\.0{1,3})?)"
            r"|(?:[0-9]|[1-4][0-9])(?:\.[0-9]{1,3})?|50(?:\.0{1,3})?)$",
        ),
        (
            "WaterReadingInputRequest",
            "ph",
            r"^(?:-0(?:\.0{1,3})?|(?:[0-9]|1[0-3])(?:\.[0-9]{1,3})?|14(?:\.0{1,3})?)$",
        ),
        # Nothing forbids a negative value here.
        ("WaterAlert", "last_value", r"^-?(?:0|[1-9][0-9]{0,3})(?:\.[0-9]{1,3})?$"),
    ],
)
def test_decimal_patterns(schema, name, field, pattern):
    assert schema["components"]["schemas"][name]["properties"][field]["pattern"] == pattern


@pytest.mark.parametrize("text", ["", "-", ".", "-.", "-1", "0", "0.000", "1.0001", "1000000"])
def test_weight_pattern_refuses_what_the_api_refuses(schema, text):
    pattern = schema["components"]["schemas"]["WeightInputRequest"]["properties"]["weight_kg"]
    assert re.search(pattern["pattern"], text) is None


BOUNDS = [
    {},
    {"minimum": 0},
    {"minimum": 0, "exclusive_minimum": True},
    {"minimum": -5, "maximum": 50},
    {"minimum": 0, "maximum": 14},
    {"minimum": -5, "maximum": 1000},
    {"minimum": -10, "maximum": -2},
    {"minimum": 3, "maximum": 250},
    {"minimum": 1},
    {"maximum": 7},
]


@pytest.mark.parametrize("digits", [(7, 3), (12, 2), (7, 1), (5, 0)], ids=str)
@pytest.mark.parametrize("bounds", BOUNDS, ids=str)
def test_decimal_pattern_admits_only_what_the_field_accepts(digits, bounds):
    """Every string the pattern admits, the field accepts; everything the field answers
    (its representation) matches the pattern; common spellings it accepts match too."""
    max_digits, places = digits
    pattern = re.compile(decimal_pattern(max_digits=max_digits, decimal_places=places, **bounds))
    minimum = bounds.get("minimum")
    if bounds.get("exclusive_minimum"):
        minimum = Decimal(1).scaleb(-places)
    field = serializers.DecimalField(
        max_digits=max_digits,
        decimal_places=places,
        min_value=None if minimum is None else Decimal(minimum),
        max_value=None if "maximum" not in bounds else Decimal(bounds["maximum"]),
    )
    generator = random.Random(f"{digits}{bounds}")
    admitted = refused = 0
    for _ in range(3000):
        whole = "".join(generator.choices("0123456789", k=generator.randint(0, max_digits)))
        fraction = "".join(generator.choices("0123456789", k=generator.randint(0, places + 1)))
        sign = generator.choice(["", "", "-"])
        text = sign + whole + (f".{fraction}" if generator.random() < 0.7 else "")
        try:
            value = field.run_validation(text)
        except serializers.ValidationError:
            if pattern.search(text):
                pytest.fail(f"{pattern.pattern} admits {text!r}, which the field refuses")
            refused += 1
            continue
        admitted += 1
        assert pattern.search(field.to_representation(value)), (text, pattern.pattern)
        canonical = f"{value:f}" if value != 0 else f"{abs(value):f}"
        assert pattern.search(canonical), (text, canonical, pattern.pattern)
    assert admitted > 30
    assert refused > 30


def test_decimal_pattern_refuses_to_guess_bounds_it_cannot_write():
    with pytest.raises(ValueError, match=r"a minimum of 0\.5 is not an integer"):
        decimal_pattern(max_digits=7, decimal_places=3, minimum=Decimal("0.5"))
    with pytest.raises(ValueError, match="an exclusive negative minimum"):
        decimal_pattern(max_digits=7, decimal_places=3, minimum=-1, exclusive_minimum=True)


def test_request_strings_refuse_nul(schema):
    components = schema["components"]["schemas"]
    assert components["SpeciesRequest"]["properties"]["description_es"]["pattern"] == (
        r"^[^\u0000]*$"
    )
    # Not blank: DRF trims first, so "  " is blank.
    assert components["SpeciesRequest"]["properties"]["common_name_es"]["pattern"] == (
        r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )
    # A pattern of its own already rules NUL out; formats and enums too.
    assert components["SpeciesRequest"]["properties"]["scientific_name"]["pattern"] == (
        "^[A-Z][a-z]+ [a-z]+(-[a-z]+)?( [a-z]+)?$"
    )
    assert "pattern" not in components["RegisterRequest"]["properties"]["email"]
    # Parameters: path and query.
    (code,) = schema["paths"]["/api/v1/wildlife/conservation-statuses/{code}/"]["get"]["parameters"]
    assert code["schema"]["pattern"] == r"^[^\u0000]*$"
    # A NUL anywhere in the query string is refused before any view (api/middleware.py),
    # in the search and the ordering too.
    species = {
        parameter["name"]: parameter
        for parameter in schema["paths"]["/api/v1/wildlife/species/"]["get"]["parameters"]
    }
    assert species["search"]["schema"] == {"type": "string", "pattern": r"^[^\u0000]*$"}
    assert species["ordering"]["schema"] == {"type": "string", "pattern": r"^[^\u0000]*$"}
    assert species["family"]["schema"]["pattern"] == r"^[^\u0000]*$"
    # Responses promise nothing of the kind.
    assert "pattern" not in components["Species"]["properties"]["common_name_es"]
    unmarked = [
        (name, field)
        for name, component in components.items()
        if name.endswith("Request")
        for field, value in component.get("properties", {}).items()
        if value.get("type") == "string" and not {"pattern", "enum", "format"} & set(value)
    ]
    assert unmarked == []


def test_optional_query_parameters_may_be_sent_empty(schema):
    parameters = {
        parameter["name"]: parameter
        for parameter in schema["paths"]["/api/v1/infrastructure/habitats/{id}/water-series/"][
            "get"
        ]["parameters"]
    }
    assert parameters["from"]["allowEmptyValue"] is True
    assert parameters["from"]["schema"] == {"type": "string", "format": "date-time"}
    assert "allowEmptyValue" not in parameters["parameter"]  # required
    assert "allowEmptyValue" not in parameters["id"]  # in the path
    queries = [
        parameter
        for _method, _path, operation in operations(schema)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query"
    ]
    assert {
        parameter.get("allowEmptyValue", False)
        for parameter in queries
        if not parameter.get("required")
    } == {True}


def test_nested_lists_carry_their_bounds(schema):
    lines = schema["components"]["schemas"]["OrderCreateInputRequest"]["properties"]["lines"]
    assert (lines["minItems"], lines["maxItems"]) == (1, 20)


def test_institutional_id_declares_the_model_rule(schema):
    institutional_id = schema["components"]["schemas"]["AnimalCreateInputRequest"]["properties"][
        "institutional_id"
    ]
    assert institutional_id["pattern"] == "^[A-Z0-9][A-Z0-9-]{2,31}$"


def test_paging_parameters_start_at_one(schema):
    parameters = {
        parameter["name"]: parameter
        for parameter in schema["paths"]["/api/v1/wildlife/species/"]["get"]["parameters"]
    }
    assert parameters["page"]["schema"] == {"type": "integer", "minimum": 1}
    assert parameters["page_size"]["schema"] == {"type": "integer", "minimum": 1}


@pytest.mark.parametrize("text", ["", " ", "\t\n", "\u00a0", "a", " a ", "a\x00", "\x00"])
def test_not_blank_pattern_admits_what_a_text_field_accepts(text):
    field = serializers.CharField()
    try:
        field.run_validation(text)
        accepted = True
    except serializers.ValidationError:
        accepted = False
    assert (re.search(NOT_BLANK_PATTERN, text) is not None) is accepted
