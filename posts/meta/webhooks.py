"""Reading Meta webhook deliveries: signatures and payload shapes, with no database access.

One endpoint serves Facebook Pages (``object: "page"``, field ``feed``) and Instagram (``object: "instagram"``,
fields ``comments`` and ``live_comments``: every notification is a new comment). A delivery may hold many
entries, each with many changes. What becomes a ``Change``:

- Facebook ``item: "comment"`` with verbs ``add``/``edited``/``remove``/``hide``/``unhide``. A photo, GIF or
  sticker comment carries its image address in ``photo`` and often no ``message`` key at all.
- Facebook posts by someone else on the Page (``item`` ``status``, ``post``, ``photo``, ``video``, ``share``
  or ``link``): kind ``visitor_post``, keyed by the post id. The Page's own posts are left out later, by
  author, as its own comments are.
- Instagram comments in both documented shapes: ``value.id`` (Instagram Login) and ``value.comment_id``
  (Facebook Login); the account's own comments are left out later too.
"""

import hashlib
import hmac
import json
import math
import re
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime

from posts.models import Platform

SIGNATURE_HEADER = "HTTP_X_HUB_SIGNATURE_256"
MAX_BODY_BYTES = 1024 * 1024
# Meta's deliveries nest six levels deep at most; anything far deeper is not from Meta and would exhaust the
# parser's recursion (and every later reader's) long before it meant anything.
MAX_JSON_DEPTH = 32
FACEBOOK_VERBS = {"add", "edited", "remove", "hide", "unhide"}
# Feed items that are a post on the Page's timeline (a visitor's when its author is not the Page).
FACEBOOK_POST_ITEMS = {"status", "post", "photo", "video", "share", "link"}
INSTAGRAM_FIELDS = {"comments", "live_comments"}
COMMENT, VISITOR_POST = "comment", "visitor_post"
_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


def signature_is_valid(body: bytes, header: str | None, secret: str) -> bool:
    """``X-Hub-Signature-256: sha256=<hex>`` over the raw body; the legacy SHA-1 header is not enough.

    The header is attacker-controlled: anything but 64 hex digits (non-ASCII bytes included) is simply wrong,
    never an error, because ``hmac.compare_digest`` refuses non-ASCII strings with a ``TypeError``.
    """
    if not secret or not isinstance(header, str):
        return False
    match = _SIGNATURE.fullmatch(header.strip())
    if match is None:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), match.group(1).lower().encode("ascii"))


class BadDelivery(ValueError):
    """A signed body that is not standard JSON we can read safely: answered 400 and never stored."""


def _too_deep(body: bytes) -> bool:
    """Whether arrays and objects nest deeper than ``MAX_JSON_DEPTH``, counted outside strings, no recursion."""
    depth = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub(b'""', body)):
        depth += 1 if bracket in (b"[", b"{") else -1
        if depth > MAX_JSON_DEPTH:
            return True
    return False


def _refuse_constant(name: str):
    raise BadDelivery(f"{name} is not standard JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # "1e999" parses as infinity
        raise BadDelivery(f"the number {text[:20]} is out of range")
    return value


def parse_body(body: bytes) -> dict:
    """The delivery as a JSON object, or ``BadDelivery``: strict UTF-8, standard JSON only, bounded depth.

    Pure and separate from storage, so how deliveries are stored can change without touching what is accepted.
    """
    if _too_deep(body):
        raise BadDelivery(f"nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        payload = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant, parse_float=_finite_float)
    except BadDelivery:
        raise
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise BadDelivery(f"malformed JSON ({exc.__class__.__name__})") from exc
    if not isinstance(payload, dict):
        raise BadDelivery("expected a JSON object")
    return payload


def sign(body: bytes, secret: str) -> str:
    """The header value Meta would send (for tests, the benchmark and local tools)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Change:
    """One comment (or visitor post) event, whichever platform it came from."""

    platform: str
    account_id: str  # the Page id or Instagram account id: how the channel (and nursery) is found
    verb: str
    comment_id: str  # the comment's id; for a visitor post, the post's id
    post_id: str
    parent_id: str
    author_id: str
    author_name: str
    text: str | None  # None when the event carries no text (remove, hide, unhide; an image-only comment)
    created_time: datetime | None
    event_time: int
    raw: dict
    kind: str = COMMENT
    photo_url: str = ""  # the image of a photo/sticker comment or visitor post, on Meta's servers
    link: str = ""  # where a person opens it on the platform

    @property
    def carries_content(self) -> bool:
        """Whether this event brings something to read or look at (new or edited text, or an image)."""
        return self.verb in ("add", "edited") and (self.text is not None or bool(self.photo_url))


class Skipped(Exception):
    """A change that is not a comment event we handle (a reaction, a new post, a mention...)."""


def _timestamp(value) -> datetime | None:
    """Unix seconds or milliseconds, or ISO 8601; None for anything else (a year 300000 included)."""
    if value in (None, "") or isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float) or (isinstance(value, str) and value.isascii() and value.isdigit()):
            seconds = float(value)
            if seconds > 1e12:  # milliseconds
                seconds /= 1000
            return datetime.fromtimestamp(seconds, tz=UTC)
        parsed = datetime.fromisoformat(str(value).replace("+0000", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _object(value) -> dict:
    """A nested object as a dict; a string, list or number where Meta sends an object reads as empty."""
    return value if isinstance(value, dict) else {}


def _text(value) -> str:
    """A string safe to store: JSON may carry lone surrogates ("\\ud800") or NULs that databases refuse."""
    if value is None:
        return ""
    return str(value).encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def _clean(value):
    if isinstance(value, dict):
        return {_text(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return _text(value) if isinstance(value, str) else value


def _url(value) -> str:
    """An http(s) address from the payload, or nothing: only these are ever linked or shown."""
    text = _text(value).strip() if isinstance(value, str) else ""
    return text[:1000] if text.startswith(("https://", "http://")) else ""


def _with_query(url: str, **params) -> str:
    return url + ("&" if "?" in url else "?") + urllib.parse.urlencode(params)


def _facebook_photo(value: dict) -> str:
    photos = value.get("photos")
    first = photos[0] if isinstance(photos, list) and photos else None
    return _url(value.get("photo")) or _url(first) or (_url(value.get("link")) if value.get("item") == "photo" else "")


def _facebook(account_id: str, field: str, value: dict, event_time: int) -> Change:
    item = value.get("item")
    if field != "feed" or not isinstance(item, str) or (item != COMMENT and item not in FACEBOOK_POST_ITEMS):
        raise Skipped(f"not a comment or a post ({field}/{item})")
    verb = value.get("verb")
    if verb not in FACEBOOK_VERBS:
        raise Skipped(f"verb {verb!r} is not handled")
    author = _object(value.get("from"))
    message = value.get("message")
    post = _object(value.get("post"))
    post_id = _text(value.get("post_id") or post.get("id"))
    post_link = _url(post.get("permalink_url"))
    if item == COMMENT:
        kind, object_id = COMMENT, _text(value["comment_id"])
        # A comment's own address: its post's permalink with the comment named, as Facebook's share links are.
        link = (_with_query(post_link, comment_id=object_id.rsplit("_", 1)[-1]) if post_link
                else f"https://www.facebook.com/{object_id}" if object_id else "")
    else:
        kind, object_id = VISITOR_POST, post_id
        link = post_link or (f"https://www.facebook.com/{object_id}" if object_id else "")
    return Change(
        platform=Platform.FACEBOOK, account_id=account_id, verb=verb, comment_id=object_id, post_id=post_id,
        parent_id=_text(value.get("parent_id")), author_id=_text(author.get("id")),
        author_name=_text(author.get("name")), text=None if message is None else _text(message),
        created_time=_timestamp(value.get("created_time")), event_time=event_time, raw=_clean(value),
        kind=kind, photo_url=_facebook_photo(value), link=link,
    )


def _instagram(account_id: str, field: str, value: dict, event_time: int) -> Change:
    if field not in INSTAGRAM_FIELDS:
        raise Skipped(f"field {field!r} is not handled")
    author = _object(value.get("from"))
    media = _object(value.get("media"))
    # Instagram Login sends the comment's id as "id"; Facebook Login's examples send "comment_id".
    comment_id = value.get("id") or value.get("comment_id")
    if not comment_id:
        raise KeyError("id")
    return Change(
        platform=Platform.INSTAGRAM, account_id=account_id, verb="add",
        comment_id=_text(comment_id), post_id=_text(media.get("id")), parent_id=_text(value.get("parent_id")),
        author_id=_text(author.get("id")), author_name=_text(author.get("username")),
        text=_text(value.get("text")), created_time=_timestamp(value.get("timestamp") or event_time),
        event_time=event_time, raw=_clean(value),
    )


def changes_in(payload: dict) -> tuple[list[Change], list[str]]:
    """The comment events in a delivery, and a note for each change that was not one."""
    if not isinstance(payload, dict):
        return [], ["the body is not a JSON object"]
    object_type = payload.get("object")
    reader = {"page": _facebook, "instagram": _instagram}.get(object_type) if isinstance(object_type, str) else None
    if reader is None:
        return [], [f"object {object_type!r} is not handled"]
    changes, notes = [], []
    entries = payload.get("entry")
    for e_index, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict):
            notes.append(f"entry {e_index}: not an object")
            continue
        account_id = _text(entry.get("id"))
        time = entry.get("time")
        event_time = time if isinstance(time, int) and not isinstance(time, bool) and 0 <= time < 2**53 else 0
        # Instagram's documentation also shows "field"/"value" directly on the entry: accept both shapes.
        items = entry.get("changes")
        if not isinstance(items, list):
            items = [entry] if "field" in entry else []
        for c_index, change in enumerate(items):
            try:
                if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
                    raise Skipped("no value object")
                changes.append(reader(account_id, _text(change.get("field")), change["value"], event_time))
            except Skipped as reason:
                notes.append(f"entry {e_index} change {c_index}: skipped, {reason}")
            except (KeyError, TypeError, ValueError) as exc:
                notes.append(f"entry {e_index} change {c_index}: malformed ({exc.__class__.__name__}: {exc})")
    return changes, notes
