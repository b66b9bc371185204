"""Backup and restore: the database and MEDIA_ROOT in one archive (README, Production › Backup and restore).

The archive (``.tar.gz``) holds ``manifest.json``, the database (``database.dump``, pg_dump's custom format,
or ``database.sqlite3`` for the SQLite default) and ``media/``. It never holds FIELD_ENCRYPTION_KEY: the
encrypted Page tokens in the dump can only be read with the key, so the key is kept apart (a password
manager), and the manifest records a fingerprint of it so a restore can say when the key is the wrong one.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connections

FORMAT = 1


class BackupError(Exception):
    pass


def key_fingerprint() -> str:
    """Which encryption key the data was written with, without revealing it."""
    keys = settings.FIELD_ENCRYPTION_KEYS or [f"derived from DJANGO_SECRET_KEY {settings.SECRET_KEY}"]
    return hashlib.sha256(keys[0].encode()).hexdigest()[:16]


def _pg_env(db: dict) -> tuple[list[str], dict]:
    args = ["--host", db.get("HOST") or "127.0.0.1", "--port", str(db.get("PORT") or 5432)]
    if db.get("USER"):
        args += ["--username", db["USER"]]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def backup(output: Path, *, using: str = "default", media_root: Path | None = None) -> Path:
    """Write one archive with the database and the media folder; return its path."""
    db = connections[using].settings_dict
    media_root = Path(media_root or settings.MEDIA_ROOT)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        if connections[using].vendor == "postgresql":
            args, env = _pg_env(db)
            subprocess.run(["pg_dump", *args, "--format=custom", "--no-owner", "--no-privileges",
                            "--file", str(work / "database.dump"), db["NAME"]], env=env, check=True)
            database = "database.dump"
        elif connections[using].vendor == "sqlite":
            with sqlite3.connect(db["NAME"]) as source, sqlite3.connect(work / "database.sqlite3") as target:
                source.backup(target)  # a consistent copy even while the app writes
            database = "database.sqlite3"
        else:
            raise BackupError(f"No backup for a {connections[using].vendor} database.")
        manifest = {
            "format": FORMAT, "created_at": datetime.now(UTC).isoformat(), "database": database,
            "vendor": connections[using].vendor, "encryption_key_fingerprint": key_fingerprint(),
        }
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2))
        with tarfile.open(output, "w:gz") as archive:
            archive.add(work / "manifest.json", "manifest.json")
            archive.add(work / database, database)
            archive.add(media_root if media_root.exists() else tempfile.mkdtemp(), "media")
    output.chmod(0o600)  # the archive holds personal data
    return output


def restore(archive_path: Path, *, using: str = "default", media_root: Path | None = None) -> dict:
    """Rebuild an empty database and an empty media folder from an archive; return its manifest.

    Refuses to write over data: the database must have no tables and the media folder no files."""
    connection = connections[using]
    media_root = Path(media_root or settings.MEDIA_ROOT)
    if connection.introspection.table_names():
        raise BackupError(f"The database {connection.settings_dict['NAME']} is not empty: restore into a new one.")
    if media_root.exists() and any(media_root.iterdir()):
        raise BackupError(f"The media folder {media_root} is not empty: restore into a new one.")
    with tempfile.TemporaryDirectory() as work, tarfile.open(archive_path, "r:gz") as archive:
        work = Path(work)
        archive.extractall(work, filter="data")
        manifest = json.loads((work / "manifest.json").read_text())
        if manifest.get("format") != FORMAT:
            raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
        if manifest["vendor"] != connection.vendor:
            raise BackupError(f"This is a {manifest['vendor']} backup; the database here is {connection.vendor}.")
        db = connection.settings_dict
        if connection.vendor == "postgresql":
            connection.close()
            args, env = _pg_env(db)
            subprocess.run(["pg_restore", *args, "--no-owner", "--no-privileges", "--exit-on-error",
                            "--dbname", db["NAME"], str(work / manifest["database"])], env=env, check=True)
        else:
            connection.close()
            with sqlite3.connect(work / manifest["database"]) as source, sqlite3.connect(db["NAME"]) as target:
                source.backup(target)
        media_root.mkdir(parents=True, exist_ok=True)
        shutil.copytree(work / "media", media_root, dirs_exist_ok=True)
    manifest["key_matches"] = manifest["encryption_key_fingerprint"] == key_fingerprint()
    return manifest
