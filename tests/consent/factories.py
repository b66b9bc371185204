"""Consent test helpers beyond tests/factories.py: wordings for both scopes, paper scans."""

import io

from django.core.files.base import ContentFile
from PIL import Image

from consent.models import ConsentDecision, Decision, Method, Scope
from tests.factories import ConsentWordingFactory


def _one_page_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


MINIMAL_PDF = _one_page_pdf()  # a real one-page PDF: scans are copied page by page, so a PDF needs a page


def wordings(nursery, version: int = 1) -> dict[str, object]:
    """Published wording for both scopes (text that names the nursery and says how to withdraw)."""
    return {
        scope: ConsentWordingFactory(
            nursery=nursery, scope=scope, version=version,
            text=f"I allow {nursery.name} to share photos of my child ({scope}, v{version}). "
                 "You can withdraw at any time in Safe Sharing or by telling the manager.",
        )
        for scope in Scope.values
    }


def png_bytes(size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, "PNG")
    return buffer.getvalue()


def paper_decision(child, guardian, recorder, *, scope=Scope.CLOSED, decision=Decision.GRANTED) -> ConsentDecision:
    """A paper row straight into the ledger, for pages that show one (the service is tested on its own)."""
    from django.utils import timezone

    wording = wordings(child.nursery)[scope]
    return ConsentDecision.objects.create(
        nursery=child.nursery, child=child, scope=scope, decision=decision, guardian=guardian,
        signature=guardian.get_full_name() or "A Parent", wording=wording, decided_at=timezone.now(),
        method=Method.PAPER, paper_scan=ContentFile(png_bytes(), name="scan.png"), recorded_by=recorder,
    )
