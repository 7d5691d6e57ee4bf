"""Signed-in test clients for each role, and the scenarios the console is tested in."""

import pytest
from django.test import Client

from hub import roles
from tests.stewardship.admin.scenarios import person


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def viewer(db):
    return _signed_in(person("vera", roles.VIEWER))


@pytest.fixture
def steward(db):
    return _signed_in(person("sam", roles.STEWARD))


@pytest.fixture
def second_steward(db):
    return _signed_in(person("kim", roles.STEWARD))


@pytest.fixture
def lead(db):
    return _signed_in(person("lee", roles.STEWARD_LEAD))

