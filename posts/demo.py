"""Demo channels and occasions of Kids Count (posts are added by the posts workflow's own demo data)."""

from datetime import date

from consent.models import Scope
from posts.models import Channel, Occasion, Platform

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
    ("Christmas concert", date(2026, 12, 16), "The preschool room's nativity and carols for families."),
    ("Sports day", date(2026, 7, 10), "Races and games on the field."),
    ("Preschool graduation", date(2026, 7, 22), "Saying goodbye to the children starting school."),
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
    for name, when, description in OCCASIONS:
        Occasion.objects.get_or_create(
            nursery=demo.nursery, name=name, date=when,
            defaults={"description": description, "created_by": demo.nursery.manager},
        )
