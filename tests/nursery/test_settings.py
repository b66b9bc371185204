"""Production settings pass Django's deployment checks; a missing secret refuses to start."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "a-production-secret-that-is-long-and-random-enough-0123456789-abcdefghij",
    "DJANGO_ALLOWED_HOSTS": "safe.example.org",
}


def manage(*args, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {**PRODUCTION, "VAR_DIR": str(tmp_path)}
    del env["DJANGO_SECRET_KEY"]
    result = manage("check", **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_connections_persist_with_health_checks_and_the_embedded_broker_polls_often(tmp_path):
    code = ("from django.conf import settings as s; db = s.DATABASES['default']; "
            "print(db['CONN_MAX_AGE'], db['CONN_HEALTH_CHECKS'], "
            "s.CELERY_BROKER_TRANSPORT_OPTIONS['polling_interval'])")
    result = manage("shell", "-c", code, VAR_DIR=str(tmp_path), CELERY_BROKER_URL="filesystem://")
    assert result.returncode == 0, result.stderr
    max_age, health_checks, interval = result.stdout.splitlines()[-1].split()
    assert int(max_age) >= 60 and health_checks == "True"
    assert float(interval) <= 0.05, "a task queued on the embedded broker starts within 100 ms"
