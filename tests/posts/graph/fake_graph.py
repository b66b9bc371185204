"""How the fake Graph API answers: the shapes of Meta's ids, paths and error bodies."""

TOKEN = "EAAGtestPAGEtoken0123456789"
VERSION = "v26.0"


def graph_error(code, message="An error", *, subcode=None, kind="OAuthException", transient=None, trace="AbC123"):
    error = {"message": message, "type": kind, "code": code, "fbtrace_id": trace}
    if subcode is not None:
        error["error_subcode"] = subcode
    if transient is not None:
        error["is_transient"] = transient
    return {"error": error}


def path(*parts) -> str:
    return "/" + "/".join([VERSION, *parts])

PAGE = "100000000000002"
IG_USER = "17841400000000001"


class FakeInstagram:
    """Instagram content publishing as Meta documents it, with state: a container is ``IN_PROGRESS`` on its
    first status poll and ``FINISHED`` after; ``media_publish`` refuses a container that is not finished
    (9007/2207027); ``content_publishing_limit`` counts what was published against ``quota_total``; and errors
    can be queued for any step, in Meta's envelope (code, error_subcode, is_transient, fbtrace_id)."""

    def __init__(self, httpserver, *, quota_total=100, quota_usage=0, polls_before_finished=1):
        import re

        self.quota_total, self.quota_usage = quota_total, quota_usage
        self.polls_before_finished = polls_before_finished
        self.containers: dict[str, dict] = {}
        self.published: list[str] = []
        self.failures: dict[str, list[tuple[dict, int]]] = {}
        self.log: list[tuple[str, str]] = []
        httpserver.expect_request(re.compile(rf"^/{VERSION}/.*")).respond_with_handler(self.handle)

    def fail(self, step: str, body: dict, status: int = 400, times: int = 1) -> None:
        """Queue an error for ``step``: "media", "carousel", "status", "publish" or "limit"."""
        self.failures.setdefault(step, []).extend([(body, status)] * times)

    def status_of(self, container_id: str, status: str) -> None:
        self.containers[container_id]["forced"] = status

    def _error(self, step: str):
        queued = self.failures.get(step)
        return queued.pop(0) if queued else None

    def handle(self, request):
        import json

        from werkzeug import Response

        def answer(body, status=200):
            return Response(json.dumps(body), status=status, content_type="application/json")

        parts = request.path.split("/")[2:]
        self.log.append((request.method, "/".join(parts)))
        if parts == [IG_USER, "media"] and request.method == "POST":
            step = "carousel" if request.form.get("media_type") == "CAROUSEL" else "media"
            if failure := self._error(step):
                return answer(*failure)
            container_id = f"c{len(self.containers) + 1}"
            self.containers[container_id] = {"polls": 0, "form": request.form.to_dict(), "forced": ""}
            return answer({"id": container_id})
        if parts == [IG_USER, "content_publishing_limit"]:
            if failure := self._error("limit"):
                return answer(*failure)
            return answer({"data": [{"quota_usage": self.quota_usage,
                                     "config": {"quota_total": self.quota_total, "quota_duration": 86400}}]})
        if parts == [IG_USER, "media_publish"]:
            if failure := self._error("publish"):
                return answer(*failure)
            container = self.containers.get(request.form.get("creation_id", ""))
            if container is None or self._status(container, poll=False) != "FINISHED":
                return answer(graph_error(9007, "Media ID is not available", subcode=2207027, transient=False))
            if self.quota_usage >= self.quota_total:
                return answer(graph_error(9, "Application request limit reached", subcode=2207042), 400)
            container["forced"] = "PUBLISHED"
            self.quota_usage += 1
            media_id = f"m{len(self.published) + 1}"
            self.published.append(media_id)
            return answer({"id": media_id})
        if len(parts) == 1 and parts[0] in self.containers and request.method == "GET":
            if failure := self._error("status"):
                return answer(*failure)
            return answer({"status_code": self._status(self.containers[parts[0]]), "id": parts[0]})
        if len(parts) == 1 and parts[0] in self.published:
            return answer({"permalink": f"https://www.instagram.com/p/{parts[0]}/", "id": parts[0]})
        return answer(graph_error(100, "Unsupported request", subcode=33), 400)

    def _status(self, container: dict, *, poll: bool = True) -> str:
        if container["forced"]:
            return container["forced"]
        if poll:
            container["polls"] += 1
            return "FINISHED" if container["polls"] > self.polls_before_finished else "IN_PROGRESS"
        return "FINISHED" if container["polls"] > self.polls_before_finished else "IN_PROGRESS"
