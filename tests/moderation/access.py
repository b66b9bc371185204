from tests.access import Access, everyone, expect


def _item(world):
    if "moderation_item" not in world.extra:
        from tests.moderation.factories import ChannelFactory, CommentFactory, ItemFactory

        world.extra["moderation_item"] = ItemFactory(
            comment=CommentFactory(channel=ChannelFactory(nursery=world.nursery), text="Amara Okafor <b>hi</b>")
        )
    return {"pk": world.extra["moderation_item"].pk}


def _rule(world):
    from moderation.models import ScreeningRule

    return {"pk": ScreeningRule.objects.filter(nursery=world.nursery).first().pk}


def _concern_with_screenshot(world):
    if "concern" not in world.extra:
        from django.core.files.base import ContentFile

        from moderation.services import raise_concern
        from tests.moderation.test_concerns import png_bytes

        item = raise_concern(world.parent, nursery=world.nursery, description="A photo was shared",
                             screenshot=ContentFile(png_bytes(), name="s.png"))
        world.extra["concern"] = item.concern
    return {"pk": world.extra["concern"].pk}


def _resolve_data(world):
    return {"action": "no_concern", "reason": "A kind comment", "version": 1}


QUEUE_VIEW = expect(dsl=200, leader=200, outsider=200)

ACCESS = [
    Access("moderation:queue", QUEUE_VIEW, note="leadership sees the queue; the safeguarding lead acts"),
    Access("moderation:item", expect(dsl=200, leader=200), kwargs=_item),
    Access("moderation:claim", expect(dsl=302), kwargs=_item, method="post", data=lambda w: {"version": 1}),
    Access("moderation:release", expect(dsl=302), kwargs=_item, method="post"),
    Access("moderation:resolve", expect(dsl=302), kwargs=_item, method="post", data=_resolve_data),
    Access("moderation:done_by_hand", expect(dsl=302), kwargs=_item, method="post",
           note="records a hide/delete done on the platform by hand"),
    Access("moderation:acknowledge", expect(dsl=302, outsider=302), method="post", data=lambda w: {"item": []}),
    Access("moderation:rules", expect(dsl=200, leader=200, outsider=200)),
    Access("moderation:rule_add", expect(dsl=200, leader=200, outsider=200)),
    Access("moderation:rule_edit", expect(dsl=200, leader=200), kwargs=_rule),
    Access("moderation:install_defaults", expect(dsl=302, leader=302, outsider=302), method="post"),
    Access("moderation:comment_add", expect(practitioner=200, dsl=200, leader=200, outsider=200)),
    Access("moderation:concern_add", everyone(200)),
    Access("moderation:my_concerns", everyone(200)),
    Access("moderation:concern_screenshot", expect(parent=200, dsl=200, leader=200), kwargs=_concern_with_screenshot,
           note="the reporter and the queue's readers",
           split={"leader_elsewhere, working here as a parent": 403}),  # a parent, but not the reporter
    Access("moderation:meta_webhook", everyone(403, anonymous=403),
           note="public URL: without the verify token the handshake is refused"),
]
