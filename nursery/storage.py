"""Where uploaded files live: the local disk by default, S3-compatible object storage when STORAGE_URL says so.

Two storages, both private (no file is ever served straight from them: every download goes through a
permission-checked view): ``default`` for photos, consent scans and concern screenshots, and ``private``
for conduct evidence, subject-access exports and inspection packs. On disk they are ``MEDIA_ROOT`` and
``MEDIA_ROOT/private``; on S3 the prefixes ``media/`` and ``private/`` of one bucket, with no public
access (signed addresses, should anything ask for one, expire after five minutes).

    STORAGE_URL=s3://bucket-name?endpoint_url=https://s3.example.org&region_name=eu-west-2
    (credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, as boto3 reads them)
"""

import os
from urllib.parse import parse_qs, urlparse

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.utils.deconstruct import deconstructible

SIGNED_URL_SECONDS = 300


def storages_from_url(url: str) -> dict[str, dict]:
    """The ``default`` and ``private`` entries of ``STORAGES`` for ``STORAGE_URL`` (empty: local disk)."""
    if not url:
        return {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "private": {"BACKEND": "nursery.storage.PrivateFileSystemStorage"},
        }
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ImproperlyConfigured(f"STORAGE_URL must look like s3://bucket?endpoint_url=…, not {url!r}")
    query = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
    options = {
        "bucket_name": parsed.netloc, "endpoint_url": query.get("endpoint_url"),
        "region_name": query.get("region_name"), "default_acl": None, "querystring_auth": True,
        "querystring_expire": SIGNED_URL_SECONDS, "file_overwrite": False,
        "access_key": os.environ.get("AWS_ACCESS_KEY_ID"), "secret_key": os.environ.get("AWS_SECRET_ACCESS_KEY"),
    }
    return {
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {**options, "location": "media"}},
        "private": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {**options, "location": "private"}},
    }


class PrivateFileSystemStorage(FileSystemStorage):
    """``MEDIA_ROOT/private`` on disk, read on every use so that a changed setting is honoured; no URL."""

    @property
    def base_location(self):
        return os.path.join(settings.MEDIA_ROOT, "private")

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("Private files have no public URL; serve them through a permission-checked view.")


@deconstructible(path="staff_conduct.models.PrivateStorage")
class PrivateStorage(Storage):
    """What the private file fields name in their migrations: it hands every call to ``storages["private"]``,
    so the choice of disk or bucket is a setting, looked up when used, not a migration."""

    @property
    def backend(self) -> Storage:
        return storages["private"]

    def _open(self, name, mode="rb"):
        return self.backend._open(name, mode)

    def _save(self, name, content):
        return self.backend._save(name, content)

    def get_available_name(self, name, max_length=None):
        return self.backend.get_available_name(name, max_length=max_length)

    def get_valid_name(self, name):
        return self.backend.get_valid_name(name)

    def path(self, name):
        return self.backend.path(name)

    def delete(self, name):
        return self.backend.delete(name)

    def exists(self, name):
        return self.backend.exists(name)

    def listdir(self, path):
        return self.backend.listdir(path)

    def size(self, name):
        return self.backend.size(name)

    def get_modified_time(self, name):
        return self.backend.get_modified_time(name)

    def url(self, name):
        raise ValueError("Private files have no public URL; serve them through a permission-checked view.")
