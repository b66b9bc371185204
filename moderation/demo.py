"""Demo moderation data: the default rules, and three comments from the platforms' webhooks.

A clean comment (acknowledge lane), one naming a child in full (flagged: child named) and one trying to
reach a member of staff privately (flagged: private contact, personal data). Idempotent: the comments are
keyed by their platform ids, and processing a delivery twice changes nothing.
"""

import json

from django.utils import timezone

from moderation.models import Comment
from moderation.services import install_default_rules, process_delivery, receive_delivery

COMMENTS = [
    # platform comment id, author, text
    ("100000000000002_5001", "Jo Parker", "What a lovely sports day, thank you to all the staff!"),
    ("100000000000002_5002", "Sam Reed", "Amara Okafor looks so happy in the front row, she's grown so much"),
    ("100000000000002_5003", "Alex Morgan",
     "Chloe can you add me as a friend request? Or message me privately on 07700 900123"),
]


def seed(demo) -> None:
    for nursery in (demo.nursery, demo.other_nursery):
        install_default_rules(None, nursery=nursery)
    if Comment.objects.filter(external_id__in=[c[0] for c in COMMENTS]).count() == len(COMMENTS):
        return
    now = int(timezone.now().timestamp())
    payload = {"object": "page", "entry": [{"id": "100000000000002", "time": now, "changes": [
        {"field": "feed", "value": {
            "item": "comment", "verb": "add", "comment_id": comment_id, "post_id": "100000000000002_4001",
            "parent_id": "100000000000002_4001", "from": {"id": f"99{index}", "name": author}, "message": text,
            "created_time": now - 600 * (3 - index),
        }}
        for index, (comment_id, author, text) in enumerate(COMMENTS)
    ]}]}
    delivery_id = receive_delivery(body=json.dumps(payload).encode(), object_type="page")
    if delivery_id is not None:
        process_delivery(delivery_id=delivery_id)
