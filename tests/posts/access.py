"""Who opens which posts page. Each object URL gets a fresh post written by the practitioner."""

from django.utils import timezone

from consent.models import Scope
from posts.meta.models import DeliveryState, GraphDelivery
from posts.models import Platform, PostStatus, Publication, Takedown
from posts.signed_media import sign_image
from tests.access import Access, everyone, expect, leadership_page, staff_page
from tests.posts.factories import ChannelFactory, OccasionFactory, PostFactory, PostImageFactory


def post_of(world, status=PostStatus.DRAFT):
    post = PostFactory(nursery=world.nursery, author=world.practitioner, status=status,
                       channels=[ChannelFactory(nursery=world.nursery, audience=Scope.CLOSED)])
    PostImageFactory(post=post, children=[world.child])
    return post


def post_pk(status=PostStatus.DRAFT):
    return lambda w: {"pk": post_of(w, status).pk}


def image_pk(w):
    return {"pk": post_of(w).images.get().pk}


def takedown_pk(w):
    post = post_of(w, PostStatus.PUBLISHED)
    now = timezone.now()
    return {"pk": Takedown.objects.create(nursery=w.nursery, post=post, child=w.child, scope=Scope.CLOSED,
                                          reason="Consent withdrawn.", opened_at=now, deadline=now,
                                          next_escalation_at=now).pk}


def publication_pk(w):
    post = post_of(w, PostStatus.PUBLISHED)
    return {"pk": Publication.objects.create(post=post, channel=post.channels.get(), published_at=timezone.now(),
                                             published_by=w.leader).pk}


# The author and leadership see a draft; another member of staff does not; the outsider gets 404.
AUTHOR_AND_LEADERSHIP = expect(practitioner=200, leader=200)
AUTHOR_ACTS = expect(practitioner=302, leader=302)  # leadership is told why not, on the post's page
LEADERSHIP_ACTS = expect(leader=302)

ACCESS = [
    Access("posts:mine", staff_page()),
    Access("posts:new", staff_page()),
    Access("posts:approvals", leadership_page()),
    Access("posts:scheduled", leadership_page()),
    Access("posts:published", staff_page()),
    Access("posts:takedowns", leadership_page()),
    Access("posts:channels", leadership_page()),
    Access("posts:channel_new", leadership_page()),
    Access("posts:occasion_new", leadership_page()),
    Access("posts:channel_edit", expect(leader=200),
           kwargs=lambda w: {"pk": ChannelFactory(nursery=w.nursery, audience=Scope.PUBLIC).pk}),
    Access("posts:occasion_edit", expect(leader=200), kwargs=lambda w: {"pk": OccasionFactory(nursery=w.nursery).pk}),
    Access("posts:detail", AUTHOR_AND_LEADERSHIP, kwargs=post_pk()),
    Access("posts:edit", AUTHOR_AND_LEADERSHIP, kwargs=post_pk()),
    Access("posts:photo", AUTHOR_AND_LEADERSHIP, kwargs=image_pk),
    Access("posts:thumbnail", AUTHOR_AND_LEADERSHIP, kwargs=image_pk),
    Access("posts:add_photos", AUTHOR_ACTS, kwargs=post_pk(), method="post"),
    Access("posts:describe_photo", AUTHOR_ACTS, kwargs=image_pk, method="post",
           data=lambda w: {}),
    Access("posts:remove_photo", AUTHOR_ACTS, kwargs=image_pk, method="post"),
    Access("posts:faces", AUTHOR_AND_LEADERSHIP, kwargs=image_pk),
    Access("posts:blur_faces", AUTHOR_ACTS, kwargs=image_pk, method="post", data=lambda w: {},
           note="the author is told only leadership blurs faces"),
    Access("posts:blurring", AUTHOR_ACTS, kwargs=post_pk(), method="post", data=lambda w: {},
           note="the author is told only leadership blurs faces"),
    Access("posts:photo_copy", expect(leader=200), kwargs=lambda w: {**image_pk(w), "scope": Scope.PUBLIC}),
    Access("posts:account_faces", AUTHOR_ACTS, kwargs=image_pk, method="post", data=lambda w: {}),
    Access("posts:submit", AUTHOR_ACTS, kwargs=post_pk(PostStatus.SUBMITTED), method="post",
           note="already submitted: the access checks run, the workflow then says no"),
    Access("posts:withdraw", AUTHOR_ACTS, kwargs=post_pk(PostStatus.SUBMITTED), method="post"),
    Access("posts:approve", LEADERSHIP_ACTS, kwargs=post_pk(PostStatus.SUBMITTED), method="post"),
    Access("posts:request_changes", LEADERSHIP_ACTS, kwargs=post_pk(PostStatus.SUBMITTED), method="post",
           data=lambda w: {"note": "Crop it."}),
    Access("posts:reject", LEADERSHIP_ACTS, kwargs=post_pk(PostStatus.SUBMITTED), method="post",
           data=lambda w: {"note": "No."}),
    Access("posts:publish", LEADERSHIP_ACTS, kwargs=post_pk(PostStatus.APPROVED), method="post"),
    Access("posts:take_down", LEADERSHIP_ACTS, kwargs=post_pk(PostStatus.PUBLISHED), method="post",
           data=lambda w: {"note": "Parent asked."}),
    Access("posts:takedown", expect(leader=200), kwargs=takedown_pk),
    Access("posts:publication_address", LEADERSHIP_ACTS, method="post", kwargs=publication_pk,
           data=lambda w: {"url": "https://fb.example/p/2"}),
]


# --- Publishing through the Graph API (issue 7) --------------------------------------------------------


def graph_channel_pk(w):
    return {"pk": ChannelFactory(nursery=w.nursery, name="Instagram", platform=Platform.INSTAGRAM,
                                 audience=Scope.PUBLIC, external_id="17841400000000001").pk}


def failed_delivery_pk(w):
    channel = ChannelFactory(nursery=w.nursery, name="Public Page", audience=Scope.PUBLIC, external_id="1002")
    return {"pk": GraphDelivery.objects.create(post=post_of(w, PostStatus.PUBLISHED), channel=channel,
                                               requested_by=w.leader, requested_at=timezone.now(),
                                               state=DeliveryState.FAILED).pk}


def signed_photo_token(w):
    post = PostFactory(nursery=w.nursery, author=w.practitioner, status=PostStatus.APPROVED)
    image = PostImageFactory(post=post, no_identifiable_child=True)
    return {"token": sign_image(image, scope=Scope.PUBLIC)}


ACCESS += [
    Access("posts:graph_overview", leadership_page()),
    Access("posts:channel_connection", expect(leader=200), kwargs=graph_channel_pk),
    Access("posts:channel_disconnect", expect(leader=302), kwargs=graph_channel_pk, method="post",
           note="not connected: the leader is told so"),
    Access("posts:delivery_retry", expect(leader=302), kwargs=failed_delivery_pk, method="post",
           note="the channel is not connected: the leader is told so, nothing is sent"),
    Access("posts:signed_image", everyone(200, anonymous=200), kwargs=signed_photo_token,
           note="public by design for Instagram to fetch: signed, expiring, one processed photo"),
]
