"""model_create and model_update: the one way services write a model's editable fields."""

import pytest
from django.core.exceptions import ValidationError

from apps.business.infrastructure.models import Section
from apps.business.infrastructure.services import SECTION_FIELDS
from apps.support.audit.models import AuditEvent
from apps.support.common.services import model_create, model_update
from tests.factories import SectionFactory

pytestmark = pytest.mark.django_db


def test_only_the_changed_fields_are_saved_and_audited():
    section = SectionFactory(name_es="Arrecife", name_en="Reef", display_order=1)
    Section.objects.filter(pk=section.pk).update(name_en="Reef (edited elsewhere)")
    before = AuditEvent.objects.count()

    section, changed = model_update(
        instance=section,
        fields=SECTION_FIELDS,
        data={"name_es": "Arrecife", "display_order": 2},
    )

    assert changed == ["display_order"]
    stored = Section.objects.get(pk=section.pk)
    # name_en was not in data: the concurrent edit of it survives.
    assert (stored.name_es, stored.name_en, stored.display_order) == (
        "Arrecife",
        "Reef (edited elsewhere)",
        2,
    )
    assert AuditEvent.objects.count() == before + 1
    assert AuditEvent.objects.latest("sequence").changes == {"display_order": [1, 2]}


def test_nothing_changed_saves_nothing():
    section = SectionFactory(name_es="Arrecife")
    before = (AuditEvent.objects.count(), section.updated_at)
    section, changed = model_update(instance=section, fields=SECTION_FIELDS, data={})
    assert changed == []
    section.refresh_from_db()
    assert (AuditEvent.objects.count(), section.updated_at) == before


def test_a_field_the_service_does_not_let_be_written_is_a_programming_error():
    section = SectionFactory()
    with pytest.raises(TypeError, match=r"Section fields not writable here: \['id'\]"):
        model_update(instance=section, fields=SECTION_FIELDS, data={"id": 99})
    with pytest.raises(TypeError, match=r"\['created_at'\]"):
        model_create(model=Section, fields=SECTION_FIELDS, data={"created_at": None})
    assert Section.objects.filter(pk=99).count() == 0


def test_invalid_values_are_refused_before_anything_is_written():
    section = SectionFactory(name_es="Arrecife")
    with pytest.raises(ValidationError) as refused:
        model_update(instance=section, fields=SECTION_FIELDS, data={"name_es": ""})
    assert list(refused.value.error_dict) == ["name_es"]
    assert Section.objects.get(pk=section.pk).name_es == "Arrecife"
