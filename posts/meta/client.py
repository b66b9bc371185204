"""A small client for the parts of Meta's Graph API that publish posts and act on comments.

Facebook Pages: a text post is ``POST /{page-id}/feed`` with ``message``; a photo post uploads each photo
unpublished (``POST /{page-id}/photos``, ``published=false``) and then creates one post with
``attached_media``. Instagram: ``POST /{ig-user-id}/media`` makes a container (one image, or carousel
items then a ``CAROUSEL`` container with ``children``) and ``POST /{ig-user-id}/media_publish`` with
``creation_id`` publishes it. ``DELETE /{object-id}`` removes a post or a comment; a comment is hidden with
``is_hidden=true`` (Facebook) or ``hide=true`` (Instagram).

The page access token travels only in the ``Authorization`` header: never in a URL, which servers and
proxies log, and never in our own log lines. Every failure becomes a ``GraphError`` that keeps Meta's
error body and says, in words a nursery manager understands, what happened and what to do.
"""

import json
import logging
import mimetypes
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from django.conf import settings

from nursery.crypto import Secret

logger = logging.getLogger(__name__)

PERMISSIONS_NEEDED = (
    "pages_manage_posts, pages_read_engagement, pages_manage_engagement, "
    "instagram_content_publish, instagram_manage_comments"
)
# Throttling: 4 app, 17 user, 32 page, 613 custom limit, 341 app limit, 80001-80014 business use case limits.
THROTTLING_CODES = {4, 17, 32, 341, 613, *range(80001, 80015)}
TRANSIENT_CODES = {1, 2}  # "API unknown" and "API service": temporary, wait and retry
TOKEN_CODES = {190, 102}  # access token expired, revoked or invalid; a new one is needed
PERMISSION_CODES = {3, 10, *range(200, 300)}
# Instagram content publishing, from Meta's error-code reference (code/subcode): which to try again as they are,
# which need the container built again, and the daily publishing limit (hold, do not fail).
INSTAGRAM_RETRY_SUBCODES = {
    2207001,  # -1: Instagram server error, try again
    2207003,  # -2: downloading the media took too long, try again
    2207027,  # 9007: the media is not ready for publishing yet, wait for FINISHED
}
INSTAGRAM_RECREATE_SUBCODES = {
    2207020,  # -2: the media (container) expired: generate a new container
    2207032,  # -1: creating the media failed: re-create it
    2207053,  # -1: unknown upload error: generate a new container
}
INSTAGRAM_LIMIT_SUBCODES = {2207042}  # 9: the account reached its daily publishing limit


class ErrorKind(StrEnum):
    THROTTLED = "throttled"
    TRANSIENT = "transient"
    LIMIT = "limit"  # Instagram's daily publishing limit: hold the post until the limit frees up
    TOKEN = "token"  # expired or revoked: retrying cannot help, a leader must reconnect
    PERMISSION = "permission"
    PERMANENT = "permanent"


def classify(*, status: int | None, code: int | None, is_transient: bool = False,
             subcode: int | None = None) -> ErrorKind:
    if code in TOKEN_CODES:
        return ErrorKind.TOKEN
    if subcode in INSTAGRAM_LIMIT_SUBCODES:
        return ErrorKind.LIMIT
    if subcode in INSTAGRAM_RETRY_SUBCODES or subcode in INSTAGRAM_RECREATE_SUBCODES:
        return ErrorKind.TRANSIENT
    if code in THROTTLING_CODES or status == 429:
        return ErrorKind.THROTTLED
    if is_transient or code in TRANSIENT_CODES or status is None or status >= 500:
        return ErrorKind.TRANSIENT
    if code in PERMISSION_CODES:
        return ErrorKind.PERMISSION
    return ErrorKind.PERMANENT


@dataclass
class GraphError(Exception):
    """A failed Graph API call: Meta's error as sent, how we classify it, and what to tell a leader."""

    kind: ErrorKind
    message: str
    status: int | None = None
    type: str = ""
    code: int | None = None
    error_subcode: int | None = None
    fbtrace_id: str = ""
    user_message: str = ""  # Meta's own message for end users, when it sends one
    platform: str = "Facebook"
    body: dict = field(default_factory=dict)

    def __post_init__(self):
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.platform} {self.kind} error ({self.code or self.status or 'network'}): {self.message}"

    @property
    def retryable(self) -> bool:
        return self.kind in {ErrorKind.THROTTLED, ErrorKind.TRANSIENT}

    @property
    def rebuild_container(self) -> bool:
        """Instagram says the container is no good (expired, failed): the next try must build a new one."""
        return self.error_subcode in INSTAGRAM_RECREATE_SUBCODES

    @classmethod
    def from_response(cls, status: int | None, body: dict | None, *, platform: str) -> "GraphError":
        error = (body or {}).get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return cls(
                kind=classify(status=status, code=None),
                message=f"Unexpected answer from {platform} (HTTP {status}).",
                status=status, platform=platform, body=body if isinstance(body, dict) else {},
            )
        code = _int_or_none(error.get("code"))
        subcode = _int_or_none(error.get("error_subcode"))
        return cls(
            kind=classify(status=status, code=code, is_transient=error.get("is_transient") is True, subcode=subcode),
            message=str(error.get("message") or "No message given."),
            status=status,
            type=str(error.get("type") or ""),
            code=code,
            error_subcode=subcode,
            fbtrace_id=str(error.get("fbtrace_id") or ""),
            user_message=str(error.get("error_user_msg") or ""),
            platform=platform,
            body={"error": error},
        )

    @classmethod
    def network(cls, reason: str, *, platform: str) -> "GraphError":
        return cls(kind=ErrorKind.TRANSIENT, message=f"Could not reach {platform}: {reason}", platform=platform)

    def explain(self) -> str:
        """What happened and what to do, for the leader who pressed publish."""
        what = self.platform
        if self.kind is ErrorKind.TOKEN:
            advice = (
                f"The connection to {what} has expired or was withdrawn (for example after a password change, "
                f"or when the Page's permissions were removed). A leader needs to reconnect the channel with a "
                f"new Page access token; nothing will be sent to {what} until then."
            )
        elif self.kind is ErrorKind.THROTTLED:
            advice = (
                f"{what} is limiting how often we can post right now. We will try again automatically, "
                f"waiting a little longer each time."
            )
        elif self.kind is ErrorKind.LIMIT:
            advice = (
                f"{what} allows an account only so many posts through the API in 24 hours, and this account has "
                f"reached that limit. The post is held and goes out automatically once the limit frees up."
            )
        elif self.kind is ErrorKind.TRANSIENT:
            advice = f"{what} had a temporary problem. We will try again automatically."
        elif self.kind is ErrorKind.PERMISSION:
            advice = (
                f"The connection to {what} is missing a permission this needs. Reconnect the channel with a "
                f"token that grants: {PERMISSIONS_NEEDED}."
            )
        elif self.code == 506:
            advice = f"{what} refused this because it repeats a recent post word for word."
        elif self.code == 368:
            advice = (
                f"{what} has temporarily blocked this account from posting for a policy reason. "
                f"Check the account's quality page in Meta Business Suite."
            )
        else:
            advice = f"{what} refused this and it will not be retried. Check the post and try again."
        said = self.user_message or self.message
        trace = f" Reference for Meta support: {self.fbtrace_id}." if self.fbtrace_id else ""
        return f"{advice} {what} said: “{said}”{trace}"

    def as_record(self) -> dict:
        """What we keep of the failure (Meta's body and our reading of it); never holds the token."""
        return {
            "kind": str(self.kind), "status": self.status, "code": self.code, "error_subcode": self.error_subcode,
            "type": self.type, "message": self.message, "fbtrace_id": self.fbtrace_id, "body": self.body,
        }


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes
    content_type: str = ""

    def type(self) -> str:
        return self.content_type or mimetypes.guess_type(self.filename)[0] or "application/octet-stream"


class GraphClient:
    """One page's (or Instagram account's) access to the Graph API."""

    def __init__(self, access_token: Secret | str, *, platform: str = "Facebook", base_url: str | None = None,
                 version: str | None = None, timeout: float | None = None):
        self._token = access_token if isinstance(access_token, Secret) else Secret(access_token)
        self.platform = platform
        self.base_url = (base_url or settings.META_GRAPH_BASE_URL).rstrip("/")
        self.version = version or settings.META_GRAPH_VERSION
        self.timeout = timeout or settings.META_GRAPH_TIMEOUT_SECONDS

    def __repr__(self) -> str:
        return f"GraphClient({self.platform}, {self.base_url}/{self.version})"

    def account_name(self, account_id: str) -> str:
        """The Page's name or the Instagram username: proves the token reaches that account."""
        name = "username" if self.platform == "Instagram" else "name"
        return str(self._request("GET", account_id, params={"fields": f"id,{name}"}).get(name) or account_id)

    # --- Facebook Pages ---

    def create_page_post(self, page_id: str, *, message: str, photo_ids: list[str] = ()) -> str:
        data = {"message": message}
        for index, photo_id in enumerate(photo_ids):
            data[f"attached_media[{index}]"] = json.dumps({"media_fbid": photo_id})
        return self._id(self._request("POST", f"{page_id}/feed", data=data))

    def upload_unpublished_photo(self, page_id: str, *, photo: Upload, alt_text: str = "") -> str:
        data = {"published": "false"}
        if alt_text:
            data["alt_text_custom"] = alt_text
        return self._id(self._request("POST", f"{page_id}/photos", data=data, files={"source": photo}))

    def recent_page_posts(self, page_id: str, *, since: datetime, limit: int = 25) -> list[dict]:
        answer = self._request("GET", f"{page_id}/feed", params={
            "fields": "id,message,created_time,permalink_url", "since": int(since.timestamp()), "limit": limit,
        })
        return list(answer.get("data") or [])

    def permalink(self, object_id: str) -> str:
        """The public address of a Facebook post, or of Instagram media (which names the field differently)."""
        name = "permalink" if self.platform == "Instagram" else "permalink_url"
        return str(self._request("GET", object_id, params={"fields": name}).get(name) or "")

    # --- Instagram ---

    def create_image_container(self, ig_user_id: str, *, image_url: str, caption: str = "", alt_text: str = "",
                               carousel_item: bool = False) -> str:
        data = {"image_url": image_url}
        if carousel_item:
            data["is_carousel_item"] = "true"
        else:
            data["caption"] = caption
            if alt_text:
                data["alt_text"] = alt_text
        return self._id(self._request("POST", f"{ig_user_id}/media", data=data))

    def create_carousel_container(self, ig_user_id: str, *, children: list[str], caption: str) -> str:
        data = {"media_type": "CAROUSEL", "children": ",".join(children), "caption": caption}
        return self._id(self._request("POST", f"{ig_user_id}/media", data=data))

    def container_status(self, container_id: str) -> str:
        """FINISHED, IN_PROGRESS, ERROR, EXPIRED or PUBLISHED."""
        return str(self._request("GET", container_id, params={"fields": "status_code"}).get("status_code") or "")

    def publishing_limit(self, ig_user_id: str) -> tuple[int, int]:
        """Posts published through the API in the last 24 hours, and how many are allowed
        (``GET /{ig-user-id}/content_publishing_limit?fields=quota_usage,config``)."""
        answer = self._request("GET", f"{ig_user_id}/content_publishing_limit", params={"fields": "quota_usage,config"})
        rows = answer.get("data") if isinstance(answer.get("data"), list) else []
        row = rows[0] if rows and isinstance(rows[0], dict) else {}
        config = row.get("config") if isinstance(row.get("config"), dict) else {}
        return _int_or_none(row.get("quota_usage")) or 0, _int_or_none(config.get("quota_total")) or 0

    def publish_container(self, ig_user_id: str, *, creation_id: str) -> str:
        return self._id(self._request("POST", f"{ig_user_id}/media_publish", data={"creation_id": creation_id}))

    def recent_media(self, ig_user_id: str, *, limit: int = 25) -> list[dict]:
        answer = self._request("GET", f"{ig_user_id}/media", params={
            "fields": "id,caption,timestamp,permalink", "limit": limit,
        })
        return list(answer.get("data") or [])

    # --- both ---

    def delete(self, object_id: str) -> dict:
        return self._request("DELETE", object_id)

    def hide_comment(self, comment_id: str, *, hidden: bool = True) -> dict:
        flag = "hide" if self.platform == "Instagram" else "is_hidden"
        return self._request("POST", comment_id, data={flag: "true" if hidden else "false"})

    # --- transport ---

    def _id(self, answer: dict) -> str:
        object_id = answer.get("id") or answer.get("post_id")
        if not object_id:
            raise GraphError(kind=ErrorKind.TRANSIENT, message=f"{self.platform} answered without an id.",
                             status=200, platform=self.platform, body=answer)
        return str(object_id)

    def _request(self, method: str, path: str, *, params: dict | None = None, data: dict | None = None,
                 files: dict[str, Upload] | None = None) -> dict:
        url = f"{self.base_url}/{self.version}/{urllib.parse.quote(path.strip('/'), safe='/')}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        headers = {"Authorization": f"Bearer {self._token.reveal()}", "Accept": "application/json"}
        body = None
        if files:
            body, headers["Content-Type"] = _multipart(data or {}, files)
        elif data is not None:
            body = urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(url, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            logger.warning("Graph API %s /%s failed: %s", method, path, reason)
            raise GraphError.network(str(reason), platform=self.platform) from None
        answer = _json(raw)
        if status >= 400 or (isinstance(answer, dict) and "error" in answer) or not isinstance(answer, dict):
            error = GraphError.from_response(status, answer if isinstance(answer, dict) else None,
                                             platform=self.platform)
            logger.warning("Graph API %s /%s answered %s: %s (fbtrace_id %s)", method, path, status,
                           error.kind, error.fbtrace_id or "-")
            raise error
        logger.info("Graph API %s /%s answered %s", method, path, status)
        return answer


def _json(raw: bytes):
    try:
        return json.loads(raw.decode("utf-8")) if raw else {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def _multipart(data: dict, files: dict[str, Upload]) -> tuple[bytes, str]:
    boundary = f"----safesharing{secrets.token_hex(16)}"
    parts = []
    for name, value in data.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, upload in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{upload.filename}"\r\n'
            f"Content-Type: {upload.type()}\r\n\r\n".encode() + upload.content + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
