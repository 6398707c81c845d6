"""What visitors see of the collection, and what they cannot probe."""

import pytest

from tests.factories import AnimalFactory, HabitatFactory, SectionFactory, SpeciesFactory

pytestmark = pytest.mark.django_db


def test_animals_of_back_of_house_sections_are_not_public(api_client):
    hidden = SectionFactory(is_public=False)
    AnimalFactory(current_habitat=HabitatFactory(section=hidden, is_public=True))
    assert api_client.get("/api/v1/wildlife/animals/").json()["count"] == 0


def test_visitors_cannot_filter_on_hidden_fields_or_probe_hidden_species(api_client):
    public_species = SpeciesFactory()
    hidden_species = SpeciesFactory(is_public=False)
    AnimalFactory(species=public_species, origin="confiscated")
    AnimalFactory(species=public_species, origin="born_here")
    everything = api_client.get("/api/v1/wildlife/animals/").json()["count"]
    assert (
        api_client.get("/api/v1/wildlife/animals/", {"origin": "confiscated"}).json()["count"]
        == everything
    )
    hidden = api_client.get("/api/v1/wildlife/animals/", {"species": hidden_species.pk})
    missing = api_client.get("/api/v1/wildlife/animals/", {"species": 999999})
    assert (hidden.status_code, missing.status_code) == (400, 400)
    assert hidden.json()["errors"][0]["code"] == missing.json()["errors"][0]["code"]


@pytest.mark.parametrize("value", ["1e30", "99999999999999999999999", "1.5"])
def test_huge_or_odd_ids_in_filters_are_400(api_client, value):
    for name in ("habitat", "section"):
        response = api_client.get("/api/v1/wildlife/animals/", {name: value})
        assert response.status_code == 400, (name, value)
        assert response.json()["errors"][0]["field"] == name
