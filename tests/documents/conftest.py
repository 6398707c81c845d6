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


# --- A real S3-compatible server (moto's server mode), one per test process ---------------

S3_KEYS = {"access_key": "testing", "secret_key": "testing", "region_name": "us-east-1"}


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3 server on a free port of this machine, for the whole session of this test
    process (each pytest-xdist worker starts its own). It speaks S3's HTTP API: what the
    tests exercise is boto3 and django-storages talking to a server, not a mock."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(settings, s3_endpoint):
    """The documents' storage switched to S3Storage against the server, in a bucket of this
    test's own. Returns a boto3 client and the bucket's name."""
    import uuid

    import boto3

    bucket = f"docs-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        **{
            "aws_access_key_id": S3_KEYS["access_key"],
            "aws_secret_access_key": S3_KEYS["secret_key"],
            "region_name": S3_KEYS["region_name"],
        },
    )
    client.create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                **S3_KEYS,
                "bucket_name": bucket,
                "location": "documents",
                "endpoint_url": s3_endpoint,
                "addressing_style": "path",
                "signature_version": "s3v4",
                "default_acl": None,
                "file_overwrite": False,
                "querystring_auth": True,
                "custom_domain": None,
            },
        },
    }
    return client, bucket


def bucket_keys(client, bucket) -> list[str]:
    listed = client.list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listed.get("Contents", []))
