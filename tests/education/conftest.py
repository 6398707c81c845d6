import pytest

from apps.support.security.roles import Role
from tests.helpers import client_for, staff_member


@pytest.fixture
def educator(db):
    return staff_member(Role.EDUCATOR, email="educadora@parquemarino.test")


@pytest.fixture
def educator_client(educator):
    return client_for(educator)
