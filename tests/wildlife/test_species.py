"""The species catalogue: public read, curators write, accent-blind search, images."""

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from apps.business.wildlife.models import Species, SpeciesImage
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.factories import SpeciesFactory
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db

SPECIES = "/api/v1/wildlife/species/"

NEW_SPECIES = {
    "common_name_es": "Tortuga verde",
    "common_name_en": "Green turtle",
    "scientific_name": "Chelonia mydas",
    "taxon_class": "Reptilia",
    "taxon_order": "Testudines",
    "family": "Cheloniidae",
    "aphia_id": 137206,
    "conservation_status": "EN",
    "cites_appendix": "I",
}


@pytest.fixture
def curator():
    return staff_member(Role.CURATOR)


def png_bytes(size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (0, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_curator_adds_a_species_and_it_is_audited(curator):
    response = client_for(curator).post(SPECIES, NEW_SPECIES, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["scientific_name"], body["conservation_status"]) == ("Chelonia mydas", "EN")
    assert body["conservation_status_detail"] == {
        "code": "EN",
        "name_es": "En peligro",
        "name_en": "Endangered",
        "rank": 3,
    }
    event = AuditEvent.objects.get(action="wildlife.species.created")
    assert (event.actor_id, event.changes["scientific_name"]) == (
        curator.pk,
        [None, "Chelonia mydas"],
    )


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("chelonia mydas", "scientific_name"),
        ("Chelonia", "scientific_name"),
        ("Chelonia Mydas", "scientific_name"),
    ],
)
def test_scientific_names_must_be_binomial(curator, name, field):
    response = client_for(curator).post(
        SPECIES, {**NEW_SPECIES, "scientific_name": name}, format="json"
    )
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert not Species.objects.exists()


def test_scientific_name_and_aphia_id_are_unique(curator):
    client = client_for(curator)
    client.post(SPECIES, NEW_SPECIES, format="json")
    again = client.post(SPECIES, {**NEW_SPECIES, "common_name_es": "Otra"}, format="json")
    assert again.status_code == 400
    assert {e["field"] for e in again.json()["errors"]} == {"scientific_name", "aphia_id"}
    assert Species.objects.count() == 1


@pytest.mark.parametrize("role", [None, "visitor", Role.AQUARIST, Role.VETERINARIAN, Role.EDUCATOR])
def test_others_cannot_write_species(role, user):
    caller = None if role is None else user if role == "visitor" else staff_member(role)
    response = client_for(caller).post(SPECIES, NEW_SPECIES, format="json")
    assert response.status_code == (401 if caller is None else 403)
    assert not Species.objects.exists()


def test_public_sees_public_species_only(api_client):
    SpeciesFactory(common_name_es="Caballito de mar", scientific_name="Hippocampus ingens")
    SpeciesFactory(
        common_name_es="Pez en estudio", scientific_name="Lutjanus guttatus", is_public=False
    )
    body = api_client.get(SPECIES).json()
    assert [s["scientific_name"] for s in body["results"]] == ["Hippocampus ingens"]


@pytest.mark.parametrize("query", ["tiburon", "TIBURÓN", "ballena tibu", "rhincodon"])
def test_search_ignores_accents_and_case(api_client, query):
    SpeciesFactory(
        common_name_es="Tiburón ballena",
        common_name_en="Whale shark",
        scientific_name="Rhincodon typus",
    )
    SpeciesFactory(common_name_es="Raya águila", scientific_name="Aetobatus laticeps")
    names = [
        s["scientific_name"] for s in api_client.get(SPECIES, {"search": query}).json()["results"]
    ]
    assert names == ["Rhincodon typus"]


def test_filters_by_iucn_class_and_family(api_client):
    SpeciesFactory(
        scientific_name="Eretmochelys imbricata",
        taxon_class="Reptilia",
        family="Cheloniidae",
        conservation_status=_status("CR"),
    )
    SpeciesFactory(
        scientific_name="Ginglymostoma cirratum",
        taxon_class="Chondrichthyes",
        family="Ginglymostomatidae",
        conservation_status=_status("VU"),
    )

    def names(**params):
        return [s["scientific_name"] for s in api_client.get(SPECIES, params).json()["results"]]

    assert names(conservation_status="CR") == ["Eretmochelys imbricata"]
    assert names(taxon_class="Chondrichthyes") == ["Ginglymostoma cirratum"]
    assert names(family="Cheloniidae") == ["Eretmochelys imbricata"]


def _status(code):
    from apps.business.wildlife.models import ConservationStatus

    return ConservationStatus.objects.get(code=code)


def test_species_list_queries_are_constant(api_client, django_assert_num_queries):
    for index in range(60):
        species = SpeciesFactory()
        SpeciesImage.objects.create(
            species=species, image=f"species/{index}.png", width=8, height=8, alt_text_es="Foto"
        )
    for size in (1, 50):
        with django_assert_num_queries(3):  # count, page, images
            body = api_client.get(SPECIES, {"page_size": size}).json()
        assert len(body["results"]) == size
        assert body["results"][0]["images"][0]["alt_text_es"] == "Foto"


def test_curator_uploads_an_image_checked_by_content(curator, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    species = SpeciesFactory()
    upload = io.BytesIO(png_bytes((40, 30)))
    upload.name = "turtle.jpg"  # the name lies; the content decides
    response = client_for(curator).post(
        f"{SPECIES}{species.pk}/images/",
        {"image": upload, "alt_text_es": "Tortuga nadando"},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    image = SpeciesImage.objects.get()
    assert (image.width, image.height, image.image.name.endswith(".png")) == (40, 30, True)
    assert default_storage.exists(image.image.name)


def test_not_an_image_is_refused_and_nothing_stored(curator, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    species = SpeciesFactory()
    upload = io.BytesIO(b"%PDF-1.7 not a picture")
    upload.name = "photo.png"
    response = client_for(curator).post(
        f"{SPECIES}{species.pk}/images/", {"image": upload, "alt_text_es": "x"}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "image"
    assert not SpeciesImage.objects.exists()
    assert list(tmp_path.rglob("*.*")) == []


def test_image_over_the_size_limit_is_refused(curator, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.SPECIES_IMAGE_MAX_BYTES = 100
    species = SpeciesFactory()
    upload = io.BytesIO(png_bytes((200, 200)))
    upload.name = "big.png"
    response = client_for(curator).post(
        f"{SPECIES}{species.pk}/images/", {"image": upload, "alt_text_es": "x"}, format="multipart"
    )
    assert (response.status_code, response.json()["code"]) == (400, "image_too_large")
    assert not SpeciesImage.objects.exists()


def test_fast_list_says_exactly_what_the_serializer_says(api_client, rf):
    """The catalogue's list builds its JSON from plain rows; it must match SpeciesSerializer."""
    from api.v1.wildlife.serializers import SpeciesSerializer
    from apps.business.wildlife.selectors import species_list

    for index in range(3):
        species = SpeciesFactory(typical_length_cm="12.5" if index else None, aphia_id=1000 + index)
        SpeciesImage.objects.create(
            species=species,
            image=f"species/{index}.png",
            width=8,
            height=6,
            alt_text_es="Foto",
            credit="PM",
        )
    listed = api_client.get(SPECIES).json()["results"]
    request = rf.get(SPECIES)
    expected = SpeciesSerializer(
        species_list(public_only=True), many=True, context={"request": request}
    ).data
    assert listed == [
        dict(item) | {"images": [dict(i) for i in item["images"]]} for item in expected
    ]


@pytest.mark.parametrize("length", ["-1.0", "0.0", "-0"])
def test_a_species_is_never_zero_or_negative_centimetres_long(curator, length):
    response = client_for(curator).post(
        SPECIES, {**NEW_SPECIES, "typical_length_cm": length}, format="json"
    )
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("typical_length_cm", "min_value")
    ]
    assert Species.objects.filter(scientific_name="Chelonia mydas").count() == 0
