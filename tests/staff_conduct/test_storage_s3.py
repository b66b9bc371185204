"""Private files in S3-compatible object storage (STORAGE_URL), against a local S3 server (moto's server mode,
started here on a free port): stored in the bucket, never public, served only through the checked views."""

import hashlib
import socket
import uuid

import boto3
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from moto.server import ThreadedMotoServer

from nursery.storage import storages_from_url
from staff_conduct import services
from tests.consent.factories import paper_decision
from tests.staff_conduct.factories import png_bytes, png_upload

pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{server._port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings, monkeypatch):
    """A fresh private bucket, and both storages pointed at it as STORAGE_URL would."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    name = f"nursery-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="eu-west-2", aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    settings.STORAGES = {
        **settings.STORAGES, **storages_from_url(f"s3://{name}?endpoint_url={s3_endpoint}&region_name=eu-west-2"),
    }

    def keys() -> list[str]:
        return [o["Key"] for o in s3.list_objects_v2(Bucket=name).get("Contents", [])]

    return s3, name, keys


def test_a_consent_scan_goes_to_the_bucket_and_only_leadership_gets_it_back(client, world, bucket):
    s3, name, keys = bucket
    decision = paper_decision(world.child, world.parent, world.practitioner)
    key = f"media/{decision.paper_scan.name}"
    assert keys() == [key]
    stored = s3.get_object(Bucket=name, Key=key)["Body"].read()
    assert stored.startswith(b"\x89PNG")
    acl = s3.get_object_acl(Bucket=name, Key=key)
    assert not any("AllUsers" in g["Grantee"].get("URI", "") for g in acl["Grants"]), "never public"
    url = reverse("consent:scan", args=[decision.pk])
    client.force_login(world.practitioner)
    assert client.get(url).status_code == 403
    client.force_login(world.leader)
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == stored


def test_conduct_evidence_goes_under_the_private_prefix_and_is_served_by_its_view(client, world, investigating,
                                                                                  bucket):
    s3, name, keys = bucket
    evidence = services.add_evidence(world.deputy, incident=investigating, upload=png_upload("post.png"),
                                     description="The post")
    assert keys() == [f"private/{evidence.file.name}"]
    with pytest.raises(ValueError, match="no public URL"):
        evidence.file.url  # noqa: B018
    client.force_login(world.leader)
    response = client.get(reverse("staff_conduct:evidence_file", args=[investigating.pk, evidence.pk]))
    served = b"".join(response.streaming_content)
    with evidence.file.open("rb") as stored:  # a clean re-encoded copy of the upload (nursery/uploads.py)
        assert response.status_code == 200 and served == stored.read() and served.startswith(b"\x89PNG")
    assert evidence.sha256 == hashlib.sha256(png_bytes()).hexdigest()  # the upload itself, as evidence


def test_the_storage_url_is_read_whole_or_refused():
    options = storages_from_url("s3://packs?endpoint_url=https://s3.example.org&region_name=eu-west-2")
    assert options["default"]["OPTIONS"]["bucket_name"] == "packs"
    assert options["private"]["OPTIONS"]["location"] == "private"
    assert options["default"]["OPTIONS"]["querystring_expire"] <= 300
    assert options["default"]["OPTIONS"]["default_acl"] is None
    assert storages_from_url("")["private"]["BACKEND"] == "nursery.storage.PrivateFileSystemStorage"
    with pytest.raises(ImproperlyConfigured):
        storages_from_url("ftp://somewhere")
