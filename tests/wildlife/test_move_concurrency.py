"""Two curators move animals into the last free place of a habitat at the same moment.

The harness holds each move after its room check until the other move has passed its check
too, or is seen waiting for a lock (tests/race.py ``wait_for_rival``). With the habitat locked
(the real service) the second move waits for the first and exactly one wins; with the lock
replaced by a plain read (the control run) both pass the check and the habitat is overfull,
which shows the harness catches the bug it guards against. No timed window decides it, so it
holds on a loaded machine.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import OperationalError, connection

from apps.business.infrastructure.models import Habitat
from apps.business.wildlife import services
from apps.business.wildlife.models import RESIDENT_STATUSES, Animal
from apps.support.common.errors import ConflictError
from apps.support.security.roles import Role
from tests.factories import AnimalFactory, HabitatFactory
from tests.helpers import staff_member
from tests.race import RETRY_FOR_SECONDS, is_busy, wait_for_rival

pytestmark = [
    pytest.mark.skipif(connection.vendor == "sqlite", reason="row locks need PostgreSQL or MySQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def race_two_moves(monkeypatch) -> tuple[list[str], int]:
    target = HabitatFactory(capacity=1, name="Last place")
    animals = [AnimalFactory(), AnimalFactory()]
    curator = staff_member(Role.CURATOR)
    checked = []
    guard = threading.Lock()
    ensure_room = services._ensure_room

    def ensure_room_then_wait(habitat, *, animal):
        ensure_room(habitat, animal=animal)
        with guard:
            checked.append(animal.pk)
        wait_for_rival(lambda: len(checked) >= 2, table="infrastructure_habitat")

    monkeypatch.setattr(services, "_ensure_room", ensure_room_then_wait)

    def move(animal: Animal) -> str:
        give_up_at = time.monotonic() + RETRY_FOR_SECONDS
        try:
            while True:
                try:
                    services.animal_move(
                        actor=curator, animal=animal, habitat=target, reason="race"
                    )
                    return "moved"
                except (ConflictError, OperationalError) as error:
                    # A curator whose screen says "busy" tries again, as the API client would.
                    if not is_busy(error) or time.monotonic() > give_up_at:
                        if isinstance(error, ConflictError):
                            return error.code
                        raise
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(move, animals))
    residents = Animal.objects.filter(current_habitat=target, status__in=RESIDENT_STATUSES).count()
    return outcomes, residents


def test_racing_moves_never_overfill_a_habitat(monkeypatch):
    outcomes, residents = race_two_moves(monkeypatch)
    assert outcomes == ["habitat_full", "moved"]
    assert residents == 1


def test_control_without_the_lock_the_harness_sees_overfilling(monkeypatch):
    monkeypatch.setattr(
        services, "_lock_habitat", lambda habitat_id: Habitat.objects.get(pk=habitat_id)
    )
    outcomes, residents = race_two_moves(monkeypatch)
    assert outcomes == ["moved", "moved"]
    assert residents == 2  # capacity 1: exactly the bug the lock prevents
