"""How a post reaches a channel: one small interface, one backend per channel, chosen by name.

A channel names its backend in ``Channel.publisher`` ("manual" unless set otherwise). The services
in ``posts/services.py`` own the workflow: they check permission, run the consent gate with the
children's rows locked, and only then call the backend, inside the same transaction. So a backend:

- ``publish(post, channel, *, published_by, url="", now=None) -> Publication`` records that the post
  goes out on the channel and returns the ``Publication`` row (one per post and channel). It must not
  talk to the network inside the transaction: a backend that calls a platform (the Meta Graph API)
  creates the row, then records its Celery task with ``nursery.outbox.enqueue`` and fills in
  ``external_id``/``url`` from that task. If the transaction rolls back, nothing was sent.
- ``take_down(publication, *, user, now=None) -> None`` removes it. A synchronous backend sets
  ``removed_at``/``removed_by`` at once; a remote one enqueues the deletion after commit and sets them
  when the platform confirms.

Register a backend with ``register(MyPublisher())`` from the module that defines it, imported in
``PostsConfig.ready()`` (or its own app's ``ready()``).
"""

from datetime import datetime

from django.utils import timezone

from nursery.errors import ServiceError
from posts.models import Channel, Post, Publication


class Publisher:
    name = ""
    label = ""
    # The manual backend needs the leader to type where the post went; remote backends learn it.
    asks_for_url = False

    def publish(self, post: Post, channel: Channel, *, published_by, url: str = "",
                now: datetime | None = None) -> Publication:
        raise NotImplementedError

    def take_down(self, publication: Publication, *, user, now: datetime | None = None) -> None:
        raise NotImplementedError


class ManualPublisher(Publisher):
    """A leader posts it on the platform by hand and records the address; removal is done by hand too."""

    name = "manual"
    label = "By hand: a leader posts it and records the address"
    asks_for_url = True

    def publish(self, post, channel, *, published_by, url="", now=None):
        return Publication.objects.create(
            post=post, channel=channel, published_at=now or timezone.now(), published_by=published_by,
            url=url.strip(),
        )

    def take_down(self, publication, *, user, now=None):
        publication.removed_at = now or timezone.now()
        publication.removed_by = user
        publication.save(update_fields=["removed_at", "removed_by"])


_publishers: dict[str, Publisher] = {}


def register(publisher: Publisher) -> Publisher:
    _publishers[publisher.name] = publisher
    return publisher


def publisher_named(name: str) -> Publisher:
    try:
        return _publishers[name]
    except KeyError:
        raise ServiceError(f"No way of publishing called “{name}” is set up; choose another for the channel.") from None


def publisher_for(channel: Channel) -> Publisher:
    return publisher_named(channel.publisher)


def publisher_choices() -> list[tuple[str, str]]:
    return [(p.name, p.label) for p in _publishers.values()]


register(ManualPublisher())
