"""The back office's dates with a time: two inputs, each with its own accessible name (Django's
split widget labels neither; axe-core calls it critical)."""

import re

import pytest
from django.utils import translation

from apps.business.wildlife.admin import AnimalForm, MoveForm
from apps.support.security.roles import Role
from tests.helpers import staff_member

pytestmark = pytest.mark.django_db


def names(html: str, field: str) -> list[str]:
    """The accessible names of the inputs ``<field>_0`` and ``<field>_1``, in their order."""
    inputs = re.findall(rf'<input[^>]*name="{field}_[01]"[^>]*>', html)
    return [re.search(r'aria-label="([^"]*)"', tag).group(1) for tag in inputs]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["moved at, date", "moved at, time"]),
        ("es", ["trasladado el, fecha", "trasladado el, hora"]),
    ],
)
def test_a_workflows_date_and_time_are_named_in_the_staffs_language(language, expected):
    with translation.override(language):
        assert names(str(MoveForm()["moved_at"]), "moved_at") == expected


def test_the_animal_add_forms_arrival_inputs_are_named():
    with translation.override("en"):
        html = str(AnimalForm()["arrived_at"])
    assert names(html, "arrived_at") == ["arrived at, date", "arrived at, time"]


def test_a_models_date_and_time_in_its_admin_form_are_named(client):
    client.force_login(staff_member(Role.AQUARIST, preferred_language="en"))
    html = client.get("/admin/infrastructure/waterreading/add/").content.decode()
    assert names(html, "taken_at") == ["Taken at, date", "Taken at, time"]
