"""Every operation of the schema, as every role, answers as docs/api/permissions.md says.

The table in the docs is the specification. A new endpoint fails this test until its row is
written there, and a row that does not match what the code enforces fails it too.
"""

import re
from pathlib import Path

import pytest
from drf_spectacular.generators import SchemaGenerator

from apps.support.security.roles import Role
from tests.factories import UserFactory
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db

MATRIX = Path(__file__).resolve().parents[2] / "docs" / "api" / "permissions.md"
COLUMNS = {
    "anon": "anonymous",
    "visitor": "visitor",
    "admin": Role.ADMINISTRATOR,
    "curator": Role.CURATOR,
    "vet": Role.VETERINARIAN,
    "aquarist": Role.AQUARIST,
    "educator": Role.EDUCATOR,
    "editor": Role.CONTENT_EDITOR,
    "office": Role.TICKET_OFFICE,
    "gate": Role.GATE_STAFF,
    "finance": Role.FINANCE,
    "auditor": Role.AUDITOR,
}


def documented_matrix() -> dict[str, dict[str, bool]]:
    lines = [line for line in MATRIX.read_text().splitlines() if line.startswith("| ")]
    header = next(line for line in lines if line.startswith("| operation |"))
    columns = [cell.strip() for cell in header.strip("|").split("|")][1:]
    assert [COLUMNS[column] for column in columns] == list(COLUMNS.values())
    matrix = {}
    for line in lines:
        match = re.match(r"\| `(\w+)` \w+ `[^`]+` \|(.*)\|$", line)
        if match:
            cells = [cell.strip() for cell in match.group(2).split("|")]
            matrix[match.group(1)] = {
                COLUMNS[column]: cell == "✓" for column, cell in zip(columns, cells, strict=True)
            }
    return matrix


def schema_operations() -> dict[str, tuple[str, str]]:
    schema = SchemaGenerator(api_version="v1").get_schema(request=None, public=True)
    return {
        operation["operationId"]: (method.upper(), path)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }


def test_every_operation_is_in_the_matrix():
    assert sorted(schema_operations()) == sorted(documented_matrix())


def test_every_role_gets_the_documented_answer():
    callers = {"anonymous": None, "visitor": UserFactory()}
    callers.update({role: staff_member(role) for role in Role.values})
    matrix = documented_matrix()
    mismatches = []
    for operation_id, (method, path) in sorted(schema_operations().items()):
        url = re.sub(r"\{[^}]+\}", "1", path)  # any id: permissions are checked first
        for who, user in callers.items():
            client = client_for(user)
            response = client.generic(method, url, data="{}", content_type="application/json")
            allowed = response.status_code not in (401, 403)
            if allowed != matrix[operation_id][who]:
                mismatches.append((operation_id, who, response.status_code))
            if not allowed:
                expected = 401 if user is None else 403
                if response.status_code != expected:
                    mismatches.append((operation_id, who, response.status_code))
    assert mismatches == []
