"""Demo consent: the wording for both scopes, and a ledger where most families have decided."""

from datetime import timedelta

from django.utils import timezone

from consent.models import ConsentDecision, ConsentWording, Decision, Method, Scope
from nursery.models import Guardianship

CLOSED_TEXT = """I give {nursery} permission to share photographs of my child on the nursery's private parents' pages and groups (our closed Facebook group for families).

Photos are taken only at special occasions such as our Christmas concert, sports day and graduation, by nursery staff on nursery devices. A member of the leadership team checks every photo before it is shared. We never name your child with their full name.

You can withdraw this permission at any time, online in Safe Sharing or by telling the manager. We act on a withdrawal at once and remove posts already shared that picture your child."""

PUBLIC_TEXT = """I give {nursery} separate permission to use photographs of my child on open public pages used for marketing: our public Facebook page, our Instagram account, our website and our prospectus.

Anyone can see these pages. Photos are taken only at special occasions and checked by the leadership team before they are shared. We never name your child.

You can withdraw this permission at any time, online in Safe Sharing or by telling the manager. We act on a withdrawal at once and remove posts already shared that picture your child."""


def seed(demo) -> None:
    now = timezone.now()
    for nursery in (demo.nursery, demo.other_nursery):
        for scope, text in ((Scope.CLOSED, CLOSED_TEXT), (Scope.PUBLIC, PUBLIC_TEXT)):
            ConsentWording.objects.get_or_create(
                nursery=nursery, scope=scope, version=1,
                defaults={"text": text.format(nursery=nursery.name), "published_at": now - timedelta(days=90),
                          "published_by": nursery.manager},
            )
    if ConsentDecision.objects.filter(nursery=demo.nursery).exists():
        return
    wordings = {w.scope: w for w in ConsentWording.objects.filter(nursery=demo.nursery, version=1)}
    guardianships = Guardianship.objects.filter(child__nursery=demo.nursery, has_parental_responsibility=True)
    for index, guardianship in enumerate(guardianships.select_related("user", "child").order_by("child_id", "pk")):
        if guardianship.user.username in ("parent", "parent_okafor_dad"):
            continue  # the demo parent decides for themselves
        # Most families agree to the parents' group; about half also to public pages; some never answered;
        # a few agreed nearly a year ago (renewal due) or over a year ago (expired).
        scopes = [Scope.CLOSED, Scope.PUBLIC] if index % 2 == 0 else [Scope.CLOSED]
        if index % 7 == 3:
            scopes = []
        age = timedelta(days=350) if index % 9 == 4 else timedelta(days=380) if index % 13 == 6 else timedelta(
            days=60 - index)
        for scope in scopes:
            ConsentDecision.objects.create(
                nursery=demo.nursery, child=guardianship.child, scope=scope, decision=Decision.GRANTED,
                guardian=guardianship.user, signature=guardianship.user.get_full_name(),
                wording=wordings[scope], decided_at=now - age, method=Method.ONLINE,
                ip_address="192.0.2.10", user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 18_0) Safari",
            )
    sophie = demo.users["parent2"]
    isla = Guardianship.objects.get(user=sophie).child
    ConsentDecision.objects.create(
        nursery=demo.nursery, child=isla, scope=Scope.PUBLIC, decision=Decision.WITHDRAWN, guardian=sophie,
        wording=wordings[Scope.PUBLIC], decided_at=now - timedelta(days=6), method=Method.ONLINE,
        ip_address="192.0.2.20", user_agent="Mozilla/5.0 (Android 15) Chrome",
    )
    _paper_form(demo, wordings, now)


def _paper_form(demo, wordings, now) -> None:
    """A family who prefer paper: their signed form, entered by a practitioner with a scan."""
    from io import BytesIO

    from django.core.files.base import ContentFile
    from PIL import Image, ImageDraw

    child = next(c for c in demo.children if c.first_name == "Reuben")
    guardian = child.guardianships.select_related("user").first().user
    image = Image.new("L", (620, 877), 255)
    draw = ImageDraw.Draw(image)
    draw.text((40, 40), f"{demo.nursery.name}: photo consent form (private parents' pages, v1)", fill=0)
    draw.text((40, 120), f"Child: {child.full_name}", fill=0)
    draw.text((40, 780), f"Signed: {guardian.get_full_name()}", fill=0)
    buffer = BytesIO()
    image.save(buffer, "PNG")
    ConsentDecision.objects.create(
        nursery=demo.nursery, child=child, scope=Scope.CLOSED, decision=Decision.GRANTED, guardian=guardian,
        signature=guardian.get_full_name(), wording=wordings[Scope.CLOSED], decided_at=now - timedelta(days=20),
        method=Method.PAPER, paper_scan=ContentFile(buffer.getvalue(), name="demo-paper-form.png"),
        recorded_by=demo.users["staff"],
    )
