"""Factories for policies, acknowledgements and incidents (straight into the tables: tests of rules and pages)."""

import io
from datetime import datetime, timedelta

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from staff_conduct.models import (
    Acknowledgement,
    Incident,
    PolicyClause,
    PolicyDocument,
    PolicyKind,
    PolicyVersion,
    Source,
)
from tests.factories import NurseryFactory, UserFactory

STAFF_CLAUSES = [
    "Not name the setting you work at.",
    "Not comment about work or post pictures in uniform.",
    "Not send private messages to parents.",
]


class PolicyDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyDocument
        django_get_or_create = ["nursery", "kind"]

    nursery = factory.SubFactory(NurseryFactory)
    kind = PolicyKind.STAFF
    title = factory.LazyAttribute(lambda d: PolicyKind(d.kind).label)


class PolicyVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyVersion
        skip_postgeneration_save = True

    document = factory.SubFactory(PolicyDocumentFactory)
    version = factory.LazyAttribute(lambda v: v.document.versions.count() + 1)
    text = "We ask staff to be professional on social media."
    effective_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))
    published_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=30))

    @factory.post_generation
    def clauses(obj, create, extracted, **kwargs):
        if create:
            texts = STAFF_CLAUSES if extracted is None else extracted
            PolicyClause.objects.bulk_create(
                PolicyClause(version=obj, number=n, text=text) for n, text in enumerate(texts, 1)
            )


def policy(nursery, kind=PolicyKind.STAFF, **fields) -> PolicyVersion:
    return PolicyVersionFactory(document=PolicyDocumentFactory(nursery=nursery, kind=kind), **fields)


class AcknowledgementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Acknowledgement

    version = factory.SubFactory(PolicyVersionFactory)
    nursery = factory.SelfAttribute("version.document.nursery")
    user = factory.SubFactory(UserFactory)
    signature = factory.LazyAttribute(lambda a: a.user.get_full_name() or a.user.username)
    acknowledged_at = factory.LazyFunction(timezone.now)


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

    nursery = factory.SubFactory(NurseryFactory)
    subject = factory.SubFactory(UserFactory)
    source = Source.NAMED
    reported_by = None
    reported_at = factory.LazyFunction(timezone.now)
    occurred_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=1))
    description = "Posted a photo in uniform naming the nursery."


def png_bytes(size=(40, 30)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, "PNG")
    return buffer.getvalue()


def png_upload(name="screenshot.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def pdf_bytes(**catalog) -> bytes:
    """A one-page PDF; ``catalog`` adds entries to its catalog (e.g. an /OpenAction with JavaScript)."""
    from pypdf import PdfWriter
    from pypdf.generic import NameObject

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    for key, value in catalog.items():
        writer._root_object[NameObject(f"/{key}")] = value
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pdf_upload(name="letter.pdf", data=None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data or pdf_bytes(), content_type="application/pdf")


def london(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.get_default_timezone())
