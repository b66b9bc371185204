"""The queue page: order, highlighting (always escaped), filters, htmx actions and a constant query count."""

from datetime import timedelta

import pytest
from django.utils import timezone

from moderation.models import Comment, ItemAction, ModerationItem, Priority, RuleHit
from moderation.services import enter_comment, raise_concern
from tests.moderation.factories import ChannelFactory, published_post


@pytest.fixture
def channel(world):
    return ChannelFactory(nursery=world.nursery, name="Families group")


def test_the_queue_shows_concerns_then_severity_then_oldest_first(world, client, channel):
    now = timezone.now()
    medium = enter_comment(world.practitioner, channel=channel, author_name="A", text="what a screenshot",
                           now=now - timedelta(hours=3))
    high_new = enter_comment(world.practitioner, channel=channel, author_name="B", text="Amara Okafor new",
                             now=now - timedelta(minutes=5))
    high_old = enter_comment(world.practitioner, channel=channel, author_name="C", text="Amara Okafor old",
                             now=now - timedelta(minutes=50))
    concern = raise_concern(world.parent, nursery=world.nursery, description="Worried about a post")
    client.force_login(world.dsl)
    page = client.get("/moderation/").content.decode()
    order = [page.index(f'id="item-{i.pk}"') for i in (concern, high_old, high_new, medium)]
    assert order == sorted(order)
    assert "10 min left" in page or "9 min left" in page  # high target 60 min, 50 waited
    assert "Claim" in page


def test_hits_are_highlighted_and_every_character_of_the_text_is_escaped(world, client, channel):
    enter_comment(world.practitioner, channel=channel, author_name="<img src=x onerror=alert(1)>",
                  text="<script>alert('x')</script> Amara Okafor & <b>friends</b>")
    client.force_login(world.dsl)
    page = client.get("/moderation/").content.decode()
    assert "<script>alert" not in page and "<b>friends</b>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; " in page
    assert '<mark class="rule-hit" title="Child named">Amara Okafor<span class="visually-hidden"> (Child named)' \
           "</span></mark> &amp; &lt;b&gt;friends&lt;/b&gt;" in page


def test_a_hit_inside_html_is_highlighted_without_breaking_escaping(world, client, channel):
    enter_comment(world.practitioner, channel=channel, author_name="x", text="<i>Amara Okafor</i>")
    client.force_login(world.dsl)
    page = client.get("/moderation/").content.decode()
    assert "&lt;i&gt;<mark" in page and "</mark>&lt;/i&gt;" in page


def test_the_post_and_the_children_pictured_are_shown(world, client, channel):
    post = published_post(world, channel, external_id="p1", children=[world.child], caption="Sports day races")
    comment = Comment.objects.create(nursery=world.nursery, channel=channel, platform="facebook", external_id="c1",
                                     text="Amara was so fast", received_at=timezone.now(), post=post)
    from moderation.services import _screen_into_queue

    _screen_into_queue(comment, now=timezone.now(), why="Test.")
    client.force_login(world.dsl)
    page = client.get("/moderation/").content.decode()
    assert "Sports day races" in page and "Pictured: Amara Okafor" in page
    assert '<mark class="rule-hit" title="Child named">Amara<span' in page


def test_filters_by_status_category_and_channel(world, client, channel):
    other_channel = ChannelFactory(nursery=world.nursery, name="Instagram", platform="instagram")
    named = enter_comment(world.practitioner, channel=channel, author_name="A", text="Amara Okafor")
    phone = enter_comment(world.practitioner, channel=other_channel, author_name="B", text="07700 900123")
    client.force_login(world.dsl)

    def ids(query):
        page = client.get("/moderation/" + query).content.decode()
        return {i.pk for i in (named, phone) if f'id="item-{i.pk}"' in page}

    assert ids("") == {named.pk, phone.pk}
    assert ids("?category=child_named") == {named.pk}
    assert ids(f"?channel={other_channel.pk}") == {phone.pk}
    assert ids("?status=resolved") == set()
    assert ids("?category=nonsense&channel=abc&status=zzz") == {named.pk, phone.pk}


def test_leadership_sees_the_queue_but_has_no_buttons(world, client, channel):
    enter_comment(world.practitioner, channel=channel, author_name="A", text="Amara Okafor")
    client.force_login(world.leader)
    page = client.get("/moderation/").content.decode()
    assert "Amara Okafor" in page
    assert "the safeguarding lead reviews and acts" in page
    assert ">Claim<" not in page


def test_claim_and_resolve_with_htmx_swap_the_item(world, client, channel):
    item = enter_comment(world.practitioner, channel=channel, author_name="A", text="Amara Okafor")
    client.force_login(world.dsl)
    response = client.post(f"/moderation/items/{item.pk}/claim/", {"version": item.version}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(f'<article class="card mb-3 moderation-item border-danger" id="item-{item.pk}"')
    assert "You have claimed this item." in body and "Resolve" in body
    response = client.post(f"/moderation/items/{item.pk}/resolve/",
                           {"version": item.version + 1, "action": "hide", "reason": "Names a child"},
                           HTTP_HX_REQUEST="true")
    assert "Resolved and recorded." in response.content.decode()
    item.refresh_from_db()
    assert item.action == "hide"


def test_a_stale_page_gets_already_handled(world, client, channel):
    item = enter_comment(world.practitioner, channel=channel, author_name="A", text="Amara Okafor")
    client.force_login(world.dsl)
    client.post(f"/moderation/items/{item.pk}/resolve/", {"version": item.version, "action": "no_concern",
                                                           "reason": "fine"})
    response = client.post(f"/moderation/items/{item.pk}/resolve/",
                           {"version": item.version, "action": "delete", "reason": "no"}, follow=True)
    assert "Already handled" in response.content.decode()
    item.refresh_from_db()
    assert item.action == "no_concern"


def test_a_resolve_without_reason_shows_an_error(world, client, channel):
    item = enter_comment(world.practitioner, channel=channel, author_name="A", text="Amara Okafor")
    client.force_login(world.dsl)
    response = client.post(f"/moderation/items/{item.pk}/resolve/", {"version": item.version, "action": "hide"},
                           follow=True)
    assert "give the reason" in response.content.decode()


@pytest.mark.parametrize("url", ["/moderation/items/{pk}/claim/", "/moderation/items/{pk}/resolve/",
                                 "/moderation/items/{pk}/release/", "/moderation/acknowledge/"])
def test_actions_refuse_get(world, client, channel, url):
    item = enter_comment(world.practitioner, channel=channel, author_name="A", text="hello")
    client.force_login(world.dsl)
    assert client.get(url.format(pk=item.pk)).status_code == 405


def test_the_acknowledge_lane_is_cleared_from_the_page(world, client, channel):
    items = [enter_comment(world.practitioner, channel=channel, author_name="A", text=f"Lovely {n}") for n in range(3)]
    client.force_login(world.dsl)
    page = client.get("/moderation/").content.decode()
    assert "Clean comments to acknowledge" in page and "Lovely 2" in page
    response = client.post("/moderation/acknowledge/", {"item": [i.pk for i in items]}, follow=True)
    assert "3 clean comments acknowledged." in response.content.decode()
    assert ItemAction.objects.filter(kind="resolved", item__in=items).count() == 3


def test_the_item_page_shows_every_version_and_the_history(world, client, channel):
    from moderation.models import CommentVersion

    item = enter_comment(world.practitioner, channel=channel, author_name="A", text="first words")
    CommentVersion.objects.create(comment=item.comment, number=2, text="second words", seen_at=timezone.now())
    client.force_login(world.leader)
    page = client.get(f"/moderation/items/{item.pk}/").content.decode()
    assert "first words" in page and "second words" in page and "Entered the queue" in page


def test_the_home_page_routes_each_role(world, client, channel):
    enter_comment(world.practitioner, channel=channel, author_name="A", text="Amara Okafor",
                  now=timezone.now() - timedelta(hours=2))
    client.force_login(world.dsl)
    home = client.get("/").content.decode()
    assert "Review the queue" in home and "1</strong> flagged comment" in home and "2 h 0 min" in home
    client.force_login(world.parent)
    home = client.get("/").content.decode()
    assert "Report a concern" in home and "Review the queue" not in home


def _bulk_items(world, channel, count):
    now = timezone.now()
    comments = Comment.objects.bulk_create(
        Comment(nursery=world.nursery, channel=channel, platform="facebook", external_id=f"bulk{n}",
                text=f"Amara Okafor {n}", received_at=now)
        for n in range(count)
    )
    items = ModerationItem.objects.bulk_create(
        ModerationItem(nursery=world.nursery, comment=c, channel=channel,
                       priority=Priority.HIGH if n % 2 else Priority.ACKNOWLEDGE,
                       opened_at=now - timedelta(minutes=n % 300))
        for n, c in enumerate(comments)
    )
    RuleHit.objects.bulk_create(
        RuleHit(item=i, rule_name="Children's full names", category="child_named", severity=3, start=0, end=12,
                matched="Amara Okafor")
        for i in items if i.priority
    )
    ItemAction.objects.bulk_create(ItemAction(item=i, kind="opened", at=now) for i in items)


# session, user, nursery, roles, navbar counts, channels, queue counts, two lanes (the page's ids on the items
# table + those rows; the review lane's hits, story and pictured children), plus each lane's own count when
# filtered (unfiltered, the queue counts give them).
QUEUE_QUERIES = {"": 15, "?category=child_named&channel={channel}": 17}


@pytest.mark.parametrize("count", [5, 5000])
@pytest.mark.parametrize("query", ["", "?category=child_named&channel={channel}"])
def test_the_queue_page_keeps_a_constant_number_of_queries(world, client, channel, count, query,
                                                             django_assert_max_num_queries):
    _bulk_items(world, channel, count)
    raise_concern(world.parent, nursery=world.nursery, description="x")
    client.force_login(world.dsl)
    with django_assert_max_num_queries(QUEUE_QUERIES[query]) as captured:
        response = client.get("/moderation/" + query.format(channel=channel.pk))
    assert response.status_code == 200
    ids = [q["sql"] for q in captured.captured_queries
           if q["sql"].startswith('SELECT "moderation_moderationitem"."id" AS')]
    assert ids and not any(" JOIN " in sql for sql in ids), "each lane's page is chosen on the items alone"


@pytest.mark.parametrize("next_url, lands_on", [
    ("https://evil.example/queue", "/moderation/"),
    ("//evil.example/queue", "/moderation/"),
    ("javascript:alert(1)", "/moderation/"),
    ("/moderation/?status=open", "/moderation/?status=open"),
])
def test_an_action_returns_only_to_a_page_of_this_site(world, client, channel, next_url, lands_on):
    item = enter_comment(world.practitioner, channel=channel, author_name="A", text="Amara Okafor")
    client.force_login(world.dsl)
    response = client.post(f"/moderation/items/{item.pk}/claim/", {"version": item.version, "next": next_url})
    assert response.status_code == 302 and response.url == lands_on
