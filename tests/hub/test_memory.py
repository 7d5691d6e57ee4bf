"""Long-lived processes tune the garbage collector as configured, and a bad setting is a clear error."""

import subprocess

# What a Celery worker's child does when the pool forks it, and what the worker sees of its collector after.
WORKER_CHILD = """
import gc
import hub.celery
import django
django.setup()
from celery import signals
before = gc.get_freeze_count()
signals.worker_process_init.send(sender=None)
print(gc.get_threshold(), before == 0 and gc.get_freeze_count() > 0)
"""


def _child(env: dict, python: str) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-c", WORKER_CHILD], env=env, capture_output=True, text=True, timeout=60)


def test_a_worker_child_freezes_what_it_imported_and_collects_less_often(service_env, python):
    result = _child(service_env, python)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0] == "(100000, 20, 10) True"


def test_the_thresholds_come_from_the_environment(service_env, python):
    result = _child({**service_env, "CONCORD_GC_THRESHOLDS": " 5000, 20,40 "}, python)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("(5000, 20, 40) True")


def test_bad_thresholds_are_a_clear_configuration_error(service_env, python):
    for bad in ("100000,50", "a,b,c", "100000,0,100"):
        result = subprocess.run([python, "manage.py", "check"], env={**service_env, "CONCORD_GC_THRESHOLDS": bad},
                                capture_output=True, text=True, timeout=60)

        assert result.returncode != 0
        assert "CONCORD_GC_THRESHOLDS must be three positive integers" in result.stderr, result.stderr
