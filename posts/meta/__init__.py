"""Meta's Graph API (Facebook Pages and Instagram): the one package for the integration.

- ``client``: the HTTP client and Meta's error envelope (``GraphClient``, ``GraphError``).
- ``models``: a channel's connection (its encrypted Page token) and each post's delivery; imported by
  ``posts.models``, so the tables belong to the posts app.
- ``connections``: connecting and disconnecting a channel.
- ``publishing``: sending a post and taking it down (the worker), ``backend``: the ``meta_graph`` publisher
  registered in ``posts.publishing``'s registry, the posts app's seam.
- ``comments``: hiding and deleting comments, reached by moderation through ``moderation/platform.py``.
- ``webhooks``: reading signed webhook deliveries (pure, no database); moderation stores and applies them.
- ``tasks``, ``views``, ``forms``, ``queries``, ``admin``: the Celery workers and the leadership pages.
"""
