"""The zero-setup services: a real PostgreSQL and Redis start from the project itself, and only when needed."""

import subprocess

PROBE = """
import django, redis
django.setup()
from django.conf import settings
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SELECT current_setting('server_version_num')::int >= 160000, current_database()")
    print(*cursor.fetchone())
    cursor.execute("SELECT current_setting('max_connections'), current_setting('max_wal_size'), "
                   "pg_size_bytes(current_setting('shared_buffers')) >= 128 * 1024 * 1024")
    print(*cursor.fetchone())
print(redis.Redis.from_url(settings.REDIS_URL).ping(), settings.EMBEDDED_DATABASE, settings.EMBEDDED_REDIS)
"""


def _env(base: dict, **extra) -> dict:
    env = {k: v for k, v in base.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"}}
    env.update(DJANGO_SETTINGS_MODULE="hub.settings", **extra)
    return env


def test_unset_urls_start_embedded_postgres_and_redis(tmp_path, service_env, python):
    data_dir = tmp_path / "data"
    env = _env(service_env, CONCORD_DATA_DIR=str(data_dir))
    try:
        first = subprocess.run([python, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
        second = subprocess.run([python, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60)
    finally:
        stop = "from hub import embedded; embedded.stop_redis(); embedded.stop_postgres()"
        subprocess.run([python, "-c", stop], env=env, timeout=60, check=True)

    assert first.returncode == 0, first.stderr
    # tuned on its first start as a production install would be (connections, buffers, checkpoints)
    assert first.stdout.split() == ["True", "concord", "300", "4GB", "True", "True", "True", "True"]
    assert second.stdout == first.stdout  # the second process finds the running servers
    assert (data_dir / "pgdata" / "PG_VERSION").exists()
    assert (data_dir / "redis" / "appendonly.aof").exists()  # durable broker: append-only file on
    assert (data_dir / "secret_key").stat().st_mode & 0o077 == 0


def test_configured_urls_start_nothing(tmp_path, service_env, python):
    data_dir = tmp_path / "data"
    env = {**service_env, "CONCORD_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "hub.settings"}

    result = subprocess.run([python, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["False", "False"]
    assert not (data_dir / "pgdata").exists()
    assert not (data_dir / "redis").exists()


def test_non_postgres_database_url_is_refused(service_env, python):
    env = {**service_env, "DATABASE_URL": "sqlite:///db.sqlite3", "DJANGO_SETTINGS_MODULE": "hub.settings"}

    result = subprocess.run([python, "-c", "import django; django.setup()"], env=env, capture_output=True,
                            text=True, timeout=60)

    assert result.returncode != 0
    assert "DATABASE_URL must point at PostgreSQL" in result.stderr
