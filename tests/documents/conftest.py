import pytest
from django.contrib.auth.models import Group

from apps.business.documents import services
from apps.support.security.roles import Role
from tests.helpers import staff_member

DOCUMENTS = "/api/v1/documents/documents/"
FOLDERS = "/api/v1/documents/folders/"


@pytest.fixture(autouse=True)
def document_files(settings, tmp_path):
    """Each test stores documents in a folder of its own (local files)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "documents"), "base_url": None},
        },
    }
    return tmp_path / "documents"


def stored_files(root) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def make_folder(name: str, *, roles=(), public: bool = False, parent=None, actor=None):
    return services.folder_create(
        actor=actor,
        data={
            "name": name,
            "parent": parent,
            "is_public": public,
            "roles": list(Group.objects.filter(name__in=roles)),
        },
    )


@pytest.fixture
def folders(db):
    """Permits for curators, veterinary for vets, and a public one."""
    return {
        "permits": make_folder("Permisos", roles=[Role.CURATOR]),
        "vet": make_folder("Veterinaria", roles=[Role.VETERINARIAN]),
        "public": make_folder("Público", public=True),
    }


@pytest.fixture
def curator(db):
    return staff_member(Role.CURATOR)


@pytest.fixture
def vet(db):
    return staff_member(Role.VETERINARIAN)
