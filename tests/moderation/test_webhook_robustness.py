"""The webhook never answers 500: bad signatures are 403, unreadable or non-standard JSON 400, nothing stored.

Plus a small seeded fuzz over malformed headers and bodies, signed and unsigned, and over what the worker
reads from a stored delivery: every answer is 200, 400, 403 or 413, and processing never raises.
"""

import json
import random

import pytest

from moderation.models import Comment, WebhookDelivery
from moderation.services import process_delivery
from posts.meta.webhooks import MAX_JSON_DEPTH, BadDelivery, changes_in, parse_body, sign, signature_is_valid
from tests.moderation.conftest import PAGE_ID, SECRET
from tests.moderation.factories import body, feed_change, page_delivery

URL = "/webhooks/meta/"


def post(client, raw: bytes, signature: str | None = "auto", **headers):
    if signature == "auto":
        signature = sign(raw, SECRET)
    if signature is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    return client.post(URL, data=raw, content_type="application/json", **headers)


# --- signatures ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [
    "sha256=é" + "0" * 63,                      # latin-1 decoded bytes, as WSGI hands non-ASCII headers over
    "sha256=\u00ff" * 9,
    "sha256=" + "０" * 64,                       # full-width digits
    "sha256=" + "g" * 64,
    "sha256=" + "0" * 63,
    "sha256=" + "0" * 65,
    "sha256=",
    "SHA256=" + "0" * 64,
    "\x00",
    "",
])
def test_it_refuses_a_malformed_or_non_ascii_signature_with_403(client, page_channel, header):
    raw = body(page_delivery(PAGE_ID, feed_change(comment_id="1_2", message="hi", post_id="1")))
    assert post(client, raw, signature=header).status_code == 403
    assert not WebhookDelivery.objects.exists()


def test_signature_check_never_raises_on_odd_headers():
    for header in (None, 5, b"sha256=00", "sha256=" + "\udcff" * 64, "sha256= " + "a" * 64):
        assert signature_is_valid(b"{}", header, SECRET) is False


def test_an_upper_case_hex_digest_with_spaces_around_is_still_accepted():
    raw = b'{"object":"page","entry":[]}'
    assert signature_is_valid(raw, "  " + sign(raw, SECRET).upper().replace("SHA256=", "sha256=") + " ", SECRET)


# --- bodies -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [
    b"[" * 50_000 + b"]" * 50_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    b'{"object":"page","entry":' + b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1) + b"}",
    b'{"object":"page","time":NaN}',
    b'{"object":"page","time":Infinity}',
    b'{"object":"page","time":-Infinity}',
    b'{"object":"page","time":1e999}',
    b'{"object":"page","time":' + b"9" * 5000 + b"}",
    b'{"object":"page"} trailing',
    b"\xff\xfe{}",
    b'{"object":"page","x":"\xc3"}',
    b'"just a string"',
    b"[]",
    b"null",
    b"",
])
def test_it_refuses_a_signed_body_that_is_not_standard_readable_json_with_400(client, db, raw):
    assert post(client, raw).status_code == 400
    assert not WebhookDelivery.objects.exists()


def test_brackets_inside_strings_do_not_count_as_depth():
    text = {"object": "page", "entry": [], "note": "[" * 10_000 + '\\"{' * 100}
    assert parse_body(json.dumps(text).encode())["note"] == text["note"]


def test_a_real_delivery_is_well_within_the_depth_limit():
    raw = body(page_delivery(PAGE_ID, feed_change(comment_id="1_2", message="hi", post_id="1")))
    assert parse_body(raw)["object"] == "page"


@pytest.mark.parametrize("raw", [b"NaN", b'{"a":[NaN]}', b'{"a":-Infinity}'])
def test_parse_body_names_the_non_standard_constant(raw):
    with pytest.raises(BadDelivery):
        parse_body(raw)


# --- values the reader must survive -------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    {"item": "comment", "verb": "add", "comment_id": "1_2", "from": "not an object", "message": "x"},
    {"item": "comment", "verb": "add", "comment_id": "1_2", "from": ["a"], "message": 5},
    {"item": "comment", "verb": ["add"], "comment_id": "1_2"},
    {"item": "comment", "verb": "add", "comment_id": {"id": 1}, "created_time": 10**30},
    {"item": "comment", "verb": "add", "comment_id": "1_2", "created_time": "２０２５"},
    {"item": "comment", "verb": "add", "comment_id": "1_2", "created_time": "99999-01-01"},
    {"item": "comment", "verb": "add", "comment_id": "1_2", "created_time": -10**15},
    {"item": "comment", "verb": "add", "comment_id": "1_2", "created_time": True},
    {"item": "comment", "verb": "add"},
    {"item": {"x": 1}},
])
def test_odd_values_are_read_or_skipped_never_raised(value):
    changes, notes = changes_in({"object": "page", "entry": [{"id": PAGE_ID, "time": 10**40,
                                                             "changes": [{"field": "feed", "value": value}]}]})
    assert len(changes) + len(notes) == 1


# --- fuzz ---------------------------------------------------------------------------------------------------

SEED_DELIVERY = page_delivery(PAGE_ID, feed_change(comment_id="9_1", message="Hello", post_id="9"))
ODD_VALUES = [None, True, 0, -1, 10**20, 1.5, "", "x", "\u0000", "\ud800", "é" * 3, [], [None], {}, {"id": None},
              "9" * 40, {"id": "1", "name": ["x"]}]


def _mutate(rng: random.Random, node, depth: int = 0):
    """Replace, drop or add keys at random through the real delivery's shape."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            roll = rng.random()
            if roll < 0.1:
                continue
            out[key] = rng.choice(ODD_VALUES) if roll < 0.25 else _mutate(rng, value, depth + 1)
        if rng.random() < 0.1:
            out[rng.choice(["message", "photo", "item", "verb", "comment_id", "media", "from", "value"])] = (
                rng.choice(ODD_VALUES))
        return out
    if isinstance(node, list):
        items = [_mutate(rng, value, depth + 1) for value in node]
        if rng.random() < 0.2:
            items.append(rng.choice(ODD_VALUES))
        return items
    return node


def test_fuzzed_deliveries_never_cause_a_500_and_always_process(client, page_channel,
                                                                django_capture_on_commit_callbacks):
    rng = random.Random(13)
    allowed = {200, 400, 403, 413}
    for n in range(150):
        payload = _mutate(rng, SEED_DELIVERY)
        raw = json.dumps(payload).encode()
        if n % 5 == 0:  # byte-level damage: truncation, a stray byte, doubled brackets
            cut = rng.randrange(len(raw))
            raw = rng.choice([raw[:cut], raw[:cut] + b"\xff" + raw[cut:], raw[:cut] + b"[[" + raw[cut:]])
        signature = rng.choice(["auto", "auto", "auto", None, "sha256=" + "é" * 64, "sha1=abc"])
        with django_capture_on_commit_callbacks(execute=True):
            response = post(client, raw, signature=signature)
        assert response.status_code in allowed, (n, raw[:200], response.status_code)
    for delivery in WebhookDelivery.objects.all():
        process_delivery(delivery_id=delivery.pk)
    assert not WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.PROCESSED).exists()
    assert Comment.objects.filter(external_id="9_1").count() <= 1


def test_a_signed_nul_object_type_is_stored_without_it(client, page_channel):
    """PostgreSQL refuses NUL in text columns: it must be dropped, not turned into a 500."""
    response = post(client, json.dumps({"object": "pa\u0000ge", "entry": []}).encode())

    assert response.status_code == 200
    assert WebhookDelivery.objects.get().object_type == "page"
