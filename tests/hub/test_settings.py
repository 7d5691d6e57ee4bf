"""Production settings pass Django's deployment checks; Celery is configured not to lose work."""

import subprocess

from django.conf import settings

from hub.celery import app


def test_production_settings_pass_check_deploy(service_env, python):
    env = {**service_env, "DEBUG": "0", "ALLOWED_HOSTS": "concord.example.com",
           "SECRET_KEY": "k3y-" + "a1B2c3D4e5F6g7H8i9J0" * 3}

    result = subprocess.run(
        [python, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env, capture_output=True, text=True, timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_bad_boolean_is_a_clear_configuration_error(service_env, python):
    env = {**service_env, "DEBUG": "maybe"}

    result = subprocess.run([python, "manage.py", "check"], env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_secret_key_required_with_external_database(service_env, python):
    env = {k: v for k, v in service_env.items() if k != "SECRET_KEY"}

    result = subprocess.run([python, "manage.py", "check"], env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_celery_is_configured_for_at_least_once_delivery():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.worker_cancel_long_running_tasks_on_connection_loss is True
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert settings.REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"] != ["rest_framework.permissions.AllowAny"]


def test_redis_never_evicts_broker_keys():
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
