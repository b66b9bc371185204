"""Demo channels, occasions and posts of Kids Count, made through the workflow's own services."""

import io
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from consent.models import Scope
from consent.queries import consent_states
from consent.services import withdraw_consent
from nursery.models import Child
from posts import services
from posts.models import Channel, Occasion, Platform, Post

CHANNELS = [
    # name, platform, audience, platform id (what webhooks name), address
    ("Families group", Platform.FACEBOOK, Scope.CLOSED, "100000000000001",
     "https://www.facebook.com/groups/kidscountfamilies"),
    ("Public Facebook Page", Platform.FACEBOOK, Scope.PUBLIC, "100000000000002",
     "https://www.facebook.com/kidscountnursery"),
    ("Instagram", Platform.INSTAGRAM, Scope.PUBLIC, "17841400000000001", "https://www.instagram.com/kidscountnursery"),
    ("Website news", Platform.WEBSITE, Scope.PUBLIC, "", "https://kidscount.example/news"),
]
OCCASIONS = [
    # Days before the demo is made: the concert's photos are recent enough to share, the others are past their
    # occasion's window (and so leave the New post list).
    ("Christmas concert", 2, "The preschool room's nativity and carols for families."),
    ("Sports day", 145, "Races and games on the field."),
    ("Preschool graduation", 133, "Saying goodbye to the children starting school."),
]


def seed(demo) -> None:
    for name, platform, audience, external_id, url in CHANNELS:
        Channel.objects.get_or_create(
            nursery=demo.nursery, name=name,
            defaults={"platform": platform, "audience": audience, "external_id": external_id, "url": url},
        )
    Channel.objects.get_or_create(
        nursery=demo.other_nursery, name="Little Acorns families",
        defaults={"platform": Platform.FACEBOOK, "audience": Scope.CLOSED, "external_id": "100000000000009"},
    )
    today = timezone.localdate()
    for name, days_ago, description in OCCASIONS:
        Occasion.objects.get_or_create(
            nursery=demo.nursery, name=name, date=today - timedelta(days=days_ago),
            defaults={"description": description, "created_by": demo.nursery.manager},
        )
    _posts(demo)


def _photo(name: str, colour: tuple[int, int, int]) -> SimpleUploadedFile:
    """A stand-in photo: coloured shapes, so the demo needs no real picture of a child."""
    image = Image.new("RGB", (1200, 900), colour)
    draw = ImageDraw.Draw(image)
    for i in range(6):
        x = 120 + i * 170
        draw.ellipse((x, 300 + (i % 2) * 80, x + 140, 440 + (i % 2) * 80), fill=(255, 230 - i * 20, 120 + i * 15))
    draw.rectangle((0, 700, 1200, 900), fill=(90, 140, 90))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def _with_consent(demo, *scopes: str) -> list[Child]:
    children = [c for c in demo.children if c.nursery_id == demo.nursery.pk]
    states = consent_states([c.pk for c in children], scopes)
    return [c for c in children if all(states[(c.pk, s)].state == "granted" for s in scopes)]


def _posts(demo) -> None:
    """One post waiting for approval, one published, one published and now to take down (consent withdrawn)."""
    if Post.objects.filter(nursery=demo.nursery).exists():
        return
    staff, leader, deputy = demo.users["staff"], demo.users["leader"], demo.users["deputy"]
    channels = {c.name: c for c in demo.nursery.channels.all()}
    concert = Occasion.objects.get(nursery=demo.nursery, name="Christmas concert")
    now = timezone.now()
    closed_ok = _with_consent(demo, Scope.CLOSED)
    both_ok = _with_consent(demo, Scope.CLOSED, Scope.PUBLIC)

    def draft(caption, colour, children, chosen, *, occasion=concert, when=now):
        post = services.create_draft(staff, nursery=demo.nursery, caption=caption, occasion=occasion,
                                     channels=[channels[name] for name in chosen],
                                     photos=[_photo("photo.jpg", colour)], now=when)
        image = post.images.get()
        # The worker counts faces after upload; here at once, so that the demo's posts can be approved.
        services.find_faces(image_id=image.pk, now=when)
        services.describe_image(staff, image=image, alt_text=f"{caption.split('.')[0]}: children on the stage",
                                children=children, no_identifiable_child=not children, now=when)
        return services.submit_post(staff, post=post, now=when).post

    draft("Rehearsals for the Christmas concert are going well. Tickets for families are in your child's bag.",
          (40, 70, 140), closed_ok[:2], ["Families group"], when=now - timedelta(hours=30))

    painted = draft("Our new art corner is ready for the spring term.", (200, 120, 60), [],
                    ["Public Facebook Page", "Website news"], occasion=None, when=now - timedelta(days=3))
    painted = services.approve_post(leader, post=painted, version=painted.version, now=now - timedelta(days=3))
    services.publish_post(leader, post=painted, urls={channels["Public Facebook Page"].pk:
                                                      "https://www.facebook.com/kidscountnursery/posts/1001"},
                          now=now - timedelta(days=2))

    if both_ok:
        child = both_ok[0]
        nativity = draft("The nativity was a joy: thank you to every family who came.", (150, 40, 60), [child],
                         ["Families group", "Public Facebook Page"], when=now - timedelta(days=2))
        nativity = services.approve_post(deputy, post=nativity, version=nativity.version, now=now - timedelta(days=2))
        services.publish_post(deputy, post=nativity, now=now - timedelta(days=2))
        # A parent then withdraws public consent: after the demo commits, a takedown opens on the public Page.
        guardian = child.guardianships.filter(has_parental_responsibility=True).first().user
        withdraw_consent(guardian, child=child, scope=Scope.PUBLIC)
