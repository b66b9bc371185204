"""Backup and restore on PostgreSQL: one archive rebuilds a new database and media folder, and the consent
decisions, their scans, conduct evidence and the encrypted Page tokens all come back."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from consent.models import ConsentDecision, Method, Scope
from posts.meta.models import ChannelConnection
from posts.models import Channel, Platform
from staff_conduct.models import Evidence
from tests.factories import ConsentDecisionFactory
from tests.staff_conduct.factories import IncidentFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
TOKEN = "EAAB-page-token-kept-encrypted"


def admin_connection(db: dict) -> psycopg.Connection:
    return psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"] or None,
                           password=db["PASSWORD"] or None, dbname="postgres", autocommit=True)


@pytest.fixture
def new_database(postgres):
    db = connection.settings_dict
    name = f"{db['NAME']}_restored"
    with admin_connection(db) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield (f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
           f"{name}")
    with admin_connection(db) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(*args, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)


def test_a_backup_restores_into_a_new_database_with_scans_evidence_and_tokens(world, settings, tmp_path,
                                                                             new_database):
    scan = ConsentDecisionFactory(child=world.child, scope=Scope.PUBLIC, method=Method.PAPER,
                                  recorded_by=world.practitioner,
                                  paper_scan=ContentFile(b"%PDF-1.4 signed form", name="scan.pdf"))
    evidence_bytes = b"\x89PNG screenshot of the post"
    Evidence.objects.create(
        incident=IncidentFactory(nursery=world.nursery), file=ContentFile(evidence_bytes, name="x.png"),
        original_name="screenshot.png", content_type="image/png", size=len(evidence_bytes),
        sha256=hashlib.sha256(evidence_bytes).hexdigest(), uploaded_at=timezone.now(),
    )
    channel = Channel.objects.create(nursery=world.nursery, name="Facebook", platform=Platform.FACEBOOK,
                                     audience=Scope.PUBLIC, external_id="1")
    ChannelConnection.objects.create(channel=channel, access_token=TOKEN, connected_at=timezone.now())
    decisions = sorted(map(list, ConsentDecision.objects.values_list("pk", "decision", "signature", "paper_scan")))

    archive = tmp_path / "backup.tar.gz"
    call_command("backup", output=archive)
    assert archive.stat().st_mode & 0o077 == 0, "the archive is readable by its owner only"

    media = tmp_path / "restored-media"
    env = {"DATABASE_URL": new_database, "MEDIA_ROOT": str(media),
           "FIELD_ENCRYPTION_KEY": settings.FIELD_ENCRYPTION_KEYS[0]}
    restored = manage("restore", str(archive), env=env)
    assert restored.returncode == 0, restored.stderr
    assert "not the key" not in restored.stderr

    check = manage("shell", "-c", """
import hashlib, json
from consent.models import ConsentDecision
from posts.meta.models import ChannelConnection
from staff_conduct.models import Evidence
print(json.dumps({
    "decisions": sorted(map(list, ConsentDecision.objects.values_list("pk", "decision", "signature", "paper_scan"))),
    "scan": ConsentDecision.objects.exclude(paper_scan="").get().paper_scan.read().decode(),
    "evidence_intact": all(hashlib.sha256(e.file.read()).hexdigest() == e.sha256 for e in Evidence.objects.all()),
    "evidence": Evidence.objects.count(),
    "token": ChannelConnection.objects.get().access_token.reveal(),
}, default=str))
""", env=env)
    assert check.returncode == 0, check.stderr
    after = json.loads(check.stdout.strip().splitlines()[-1])
    assert after["decisions"] == decisions
    assert after["scan"] == "%PDF-1.4 signed form" and scan.paper_scan.name in [d[3] for d in decisions]
    assert after["evidence"] == 1 and after["evidence_intact"]
    assert after["token"] == TOKEN

    again = manage("restore", str(archive), env=env)
    assert again.returncode != 0 and "not empty" in again.stderr, "a restore never writes over data"
