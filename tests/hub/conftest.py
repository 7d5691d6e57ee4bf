import os
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def service_env(db):
    """Environment for a child process that uses this test's database and Redis as external servers."""
    db_settings = connection.settings_dict
    host = db_settings["HOST"] or "localhost"
    url = f"postgresql://{db_settings['USER']}@/{db_settings['NAME']}?host={host}&port={db_settings['PORT'] or 5432}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_SETTINGS"))}
    env.update(DATABASE_URL=url, REDIS_URL=settings.REDIS_URL, SECRET_KEY="x" * 60, PYTHONPATH=str(ROOT))
    return env


@pytest.fixture
def python() -> str:
    return sys.executable
