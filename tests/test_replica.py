"""The optional read replica (docs/adr/0045): public catalogue reads that miss the cache go
there once what they show has been unchanged for DATABASE_REPLICA_LAG_SECONDS; a change is
read from the primary until then; nothing else reads there, and nothing may write there.

The test settings' ``replica`` alias is the test database seen through a connection of its
own, so which connection ran each query tells where a read went."""

import time

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext

from apps.business.wildlife.models import Species
from apps.support.common import readcache, replica
from tests.factories import SpeciesFactory
from tests.helpers import client_for

SPECIES = "/api/v1/wildlife/species/"

pytestmark = pytest.mark.django_db(
    transaction=True, serialized_rollback=True, databases=["default", "replica"]
)


@pytest.fixture
def with_replica(settings):
    settings.READ_REPLICA_ALIAS = "replica"
    settings.DATABASE_REPLICA_LAG_SECONDS = 60


def later(monkeypatch, seconds: float) -> None:
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + seconds)


def reads(callable_):
    """(answer, queries on the primary, queries on the replica)."""
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as copy,
    ):
        answer = callable_()
    return answer, [q["sql"] for q in primary], [q["sql"] for q in copy]


def test_a_recent_change_is_read_from_the_primary_an_old_one_from_the_replica(
    with_replica, monkeypatch
):
    SpeciesFactory(common_name_en="Manatee")
    anonymous = client_for(None)

    answer, primary, copy = reads(lambda: anonymous.get(SPECIES))
    assert answer.headers["X-Cache"] == "MISS"
    assert copy == []
    assert any("wildlife_species" in sql for sql in primary)

    later(monkeypatch, 61)  # unchanged for longer than the replica may lag
    answer, primary, copy = reads(lambda: anonymous.get(SPECIES, {"search": "manatee"}))
    assert answer.headers["X-Cache"] == "MISS"
    assert [row["common_name_en"] for row in answer.json()["results"]] == ["Manatee"]
    assert any("wildlife_species" in sql for sql in copy)
    assert not any("wildlife_species" in sql for sql in primary)

    # A hit reads neither.
    answer, primary, copy = reads(lambda: anonymous.get(SPECIES, {"search": "manatee"}))
    assert (answer.headers["X-Cache"], primary, copy) == ("HIT", [], [])


def test_a_write_is_read_back_from_the_primary(with_replica, monkeypatch):
    species = Species.objects.get(pk=SpeciesFactory(common_name_en="Manatee").pk)
    later(monkeypatch, 61)
    species.common_name_en = "Dugong"
    species.save()  # changes the catalogue's version now (the clock says 61 s on)

    answer, primary, copy = reads(lambda: client_for(None).get(SPECIES))
    assert [row["common_name_en"] for row in answer.json()["results"]] == ["Dugong"]
    assert copy == []
    assert any("wildlife_species" in sql for sql in primary)


def test_nothing_but_the_cached_public_reads_goes_to_the_replica(with_replica, monkeypatch):
    SpeciesFactory()
    later(monkeypatch, 61)
    anonymous = client_for(None)
    for path in ("/api/v1/exhibitions/", "/api/v1/wildlife/animals/", "/health/ready/"):
        answer, _primary, copy = reads(lambda path=path: anonymous.get(path))
        assert (path, answer.status_code, copy) == (path, 200, [])


def test_without_a_replica_every_read_goes_to_the_primary(settings, monkeypatch):
    settings.READ_REPLICA_ALIAS = ""
    SpeciesFactory()
    later(monkeypatch, 3600)
    answer, primary, copy = reads(lambda: client_for(None).get(SPECIES, {"page": 1}))
    assert answer.status_code == 200
    assert copy == []
    assert any("wildlife_species" in sql for sql in primary)


def test_a_write_while_reading_from_the_replica_is_refused(with_replica):
    with replica.reads(), pytest.raises(replica.ReplicaReadOnly, match="Species"):
        SpeciesFactory()
    assert Species.objects.count() == 0


def test_reads_inside_a_transaction_stay_on_the_primary(with_replica):
    router = replica.ReplicaRouter()
    with replica.reads():
        assert router.db_for_read(Species) == "replica"
        with transaction.atomic():
            assert router.db_for_read(Species) is None
    assert router.db_for_read(Species) is None


def test_versions_say_when_they_were_made():
    before = time.time()
    made = readcache.new_version()
    assert before - 0.001 <= readcache.changed_at([made]) <= time.time() + 0.001
    assert readcache.changed_at(["10.000-aa", "20.500-bb"]) == 20.5


def test_a_replica_that_fails_is_replaced_by_the_primary(with_replica, monkeypatch, caplog):
    from django.db import OperationalError

    SpeciesFactory(common_name_en="Manatee")
    later(monkeypatch, 61)

    attempts = []

    def refused(*args, **kwargs):
        attempts.append(1)
        raise OperationalError("connection to replica.internal refused")

    monkeypatch.setattr(replica, "_logged_at", [-replica.LOG_EVERY_SECONDS])
    monkeypatch.setattr(replica, "_skip_until", [0.0])
    monkeypatch.setattr(connections["replica"], "ensure_connection", refused)
    with CaptureQueriesContext(connections["default"]) as primary:
        answer = client_for(None).get(SPECIES, {"page": 1})
    assert answer.status_code == 200
    assert [row["common_name_en"] for row in answer.json()["results"]] == ["Manatee"]
    assert attempts == [1]
    assert any("wildlife_species" in query["sql"] for query in primary)
    # For a while this process does not even try: a hung replica costs one timeout.
    assert client_for(None).get(SPECIES, {"page": 2, "page_size": 1}).status_code in (200, 404)
    assert attempts == [1]
    monkeypatch.setattr(replica, "_skip_until", [0.0])
    assert [
        record.getMessage() for record in caplog.records if record.name.endswith("replica")
    ] == [
        "The read replica failed (connection to replica.internal refused): reading from the "
        "primary instead."
    ]
