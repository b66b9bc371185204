"""The Graph API client: each call's method, path and parameters, and every kind of failure."""

import json
import logging
import socket
import time
from datetime import UTC, datetime

import pytest
from werkzeug import Response

from posts.meta.client import ErrorKind, GraphClient, GraphError, Upload
from tests.posts.graph.fake_graph import IG_USER, PAGE, TOKEN, graph_error, path


def facebook():
    return GraphClient(TOKEN, platform="Facebook")


def instagram():
    return GraphClient(TOKEN, platform="Instagram")


def sent(graph, index=-1):
    return graph.log[index][0]


def assert_token_only_in_the_header(request):
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in request.full_path
    assert "access_token" not in request.args and "access_token" not in request.form


def test_a_text_post_goes_to_the_page_feed_with_its_message(graph):
    graph.expect_oneshot_request(path(PAGE, "feed"), method="POST").respond_with_json({"id": f"{PAGE}_555"})
    assert facebook().create_page_post(PAGE, message="Sports day is on Friday!") == f"{PAGE}_555"
    request = sent(graph)
    assert request.form.to_dict() == {"message": "Sports day is on Friday!"}
    assert_token_only_in_the_header(request)


def test_a_photo_is_uploaded_unpublished_with_its_alt_text(graph):
    graph.expect_oneshot_request(path(PAGE, "photos"), method="POST").respond_with_json({"id": "9001"})
    photo = Upload("concert.jpg", b"\xff\xd8\xff\xe0 jpeg bytes", "image/jpeg")
    assert facebook().upload_unpublished_photo(PAGE, photo=photo, alt_text="Children singing") == "9001"
    request = sent(graph)
    assert request.form.to_dict() == {"published": "false", "alt_text_custom": "Children singing"}
    assert request.files["source"].read() == b"\xff\xd8\xff\xe0 jpeg bytes"
    assert request.files["source"].mimetype == "image/jpeg"
    assert_token_only_in_the_header(request)


def test_a_photo_post_attaches_the_uploaded_photos_in_order(graph):
    graph.expect_oneshot_request(path(PAGE, "feed"), method="POST").respond_with_json({"id": f"{PAGE}_777"})
    assert facebook().create_page_post(PAGE, message="Our concert", photo_ids=["9001", "9002"]) == f"{PAGE}_777"
    form = sent(graph).form
    assert form["message"] == "Our concert"
    assert json.loads(form["attached_media[0]"]) == {"media_fbid": "9001"}
    assert json.loads(form["attached_media[1]"]) == {"media_fbid": "9002"}


def test_recent_page_posts_are_asked_for_since_a_moment(graph):
    graph.expect_oneshot_request(path(PAGE, "feed"), method="GET").respond_with_json(
        {"data": [{"id": f"{PAGE}_1", "message": "Hello", "created_time": "2026-11-25T09:00:00+0000"}]}
    )
    posts = facebook().recent_page_posts(PAGE, since=datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    assert posts[0]["id"] == f"{PAGE}_1"
    args = sent(graph).args
    assert args["since"] == str(int(datetime(2026, 11, 25, 9, 0, tzinfo=UTC).timestamp()))
    assert "message" in args["fields"] and "created_time" in args["fields"]
    assert_token_only_in_the_header(sent(graph))


@pytest.mark.parametrize(("client", "field"), [(facebook, "permalink_url"), (instagram, "permalink")])
def test_the_permalink_is_looked_up_by_its_platform_field(graph, client, field):
    graph.expect_oneshot_request(path("555"), method="GET", query_string={"fields": field}).respond_with_json(
        {field: "https://www.example.com/p/555", "id": "555"}
    )
    assert client().permalink("555") == "https://www.example.com/p/555"


def test_an_instagram_image_container_carries_the_image_url_caption_and_alt_text(graph):
    graph.expect_oneshot_request(path(IG_USER, "media"), method="POST").respond_with_json({"id": "1789"})
    container = instagram().create_image_container(
        IG_USER, image_url="https://safe.example.org/m/abc/", caption="Sports day!", alt_text="A sack race"
    )
    assert container == "1789"
    assert sent(graph).form.to_dict() == {
        "image_url": "https://safe.example.org/m/abc/", "caption": "Sports day!", "alt_text": "A sack race",
    }
    assert_token_only_in_the_header(sent(graph))


def test_carousel_items_are_marked_and_the_carousel_names_its_children(graph):
    graph.expect_oneshot_request(path(IG_USER, "media"), method="POST").respond_with_json({"id": "c1"})
    graph.expect_oneshot_request(path(IG_USER, "media"), method="POST").respond_with_json({"id": "parent"})
    client = instagram()
    child = client.create_image_container(IG_USER, image_url="https://safe.example.org/m/1/", carousel_item=True)
    parent = client.create_carousel_container(IG_USER, children=[child, "c2"], caption="Graduation")
    assert (child, parent) == ("c1", "parent")
    assert sent(graph, 0).form.to_dict() == {"image_url": "https://safe.example.org/m/1/", "is_carousel_item": "true"}
    assert sent(graph, 1).form.to_dict() == {"media_type": "CAROUSEL", "children": "c1,c2", "caption": "Graduation"}


def test_a_container_is_published_by_its_creation_id(graph):
    graph.expect_oneshot_request(path(IG_USER, "media_publish"), method="POST").respond_with_json({"id": "media9"})
    assert instagram().publish_container(IG_USER, creation_id="parent") == "media9"
    assert sent(graph).form.to_dict() == {"creation_id": "parent"}


def test_a_container_status_is_read(graph):
    graph.expect_oneshot_request(path("parent"), method="GET", query_string={"fields": "status_code"}
                                 ).respond_with_json({"status_code": "PUBLISHED", "id": "parent"})
    assert instagram().container_status("parent") == "PUBLISHED"


def test_recent_instagram_media_are_listed(graph):
    graph.expect_oneshot_request(path(IG_USER, "media"), method="GET").respond_with_json(
        {"data": [{"id": "media9", "caption": "Graduation", "timestamp": "2026-11-25T09:00:00+0000"}]}
    )
    assert instagram().recent_media(IG_USER)[0]["id"] == "media9"
    assert "caption" in sent(graph).args["fields"]


def test_delete_uses_the_delete_method(graph):
    graph.expect_oneshot_request(path(f"{PAGE}_555"), method="DELETE").respond_with_json({"success": True})
    assert facebook().delete(f"{PAGE}_555") == {"success": True}
    assert_token_only_in_the_header(sent(graph))


@pytest.mark.parametrize(("client", "flag"), [(facebook, "is_hidden"), (instagram, "hide")])
def test_a_comment_is_hidden_with_its_platform_flag(graph, client, flag):
    graph.expect_oneshot_request(path("c42"), method="POST").respond_with_json({"success": True})
    assert client().hide_comment("c42") == {"success": True}
    assert sent(graph).form.to_dict() == {flag: "true"}


# --- failures ---


@pytest.mark.parametrize("code", [4, 17, 32, 613])
def test_throttling_codes_are_retryable_throttling(graph, code):
    graph.expect_oneshot_request(path(PAGE, "feed")).respond_with_json(graph_error(code, "Too many calls"), status=400)
    with pytest.raises(GraphError) as caught:
        facebook().create_page_post(PAGE, message="Hello")
    assert caught.value.kind is ErrorKind.THROTTLED and caught.value.retryable
    assert "try again automatically" in caught.value.explain()


def test_an_expired_token_is_not_retried_and_asks_for_a_reconnection(graph):
    graph.expect_oneshot_request(path(PAGE, "feed")).respond_with_json(
        graph_error(190, "Error validating access token: Session has expired", subcode=463, trace="Zz9"), status=400
    )
    with pytest.raises(GraphError) as caught:
        facebook().create_page_post(PAGE, message="Hello")
    error = caught.value
    assert error.kind is ErrorKind.TOKEN and not error.retryable
    assert (error.code, error.error_subcode, error.fbtrace_id, error.type) == (190, 463, "Zz9", "OAuthException")
    assert "reconnect the channel" in error.explain()
    assert "Session has expired" in error.explain() and "Zz9" in error.explain()
    assert error.as_record()["body"] == graph_error(190, "Error validating access token: Session has expired",
                                                    subcode=463, trace="Zz9")


@pytest.mark.parametrize(("status", "body", "kind"), [
    (500, graph_error(2, "Service temporarily unavailable"), ErrorKind.TRANSIENT),
    (400, graph_error(1, "An unknown error occurred"), ErrorKind.TRANSIENT),
    (400, graph_error(100, "Something odd", transient=True), ErrorKind.TRANSIENT),
    (503, None, ErrorKind.TRANSIENT),
    (400, graph_error(200, "Permissions error"), ErrorKind.PERMISSION),
    (403, graph_error(10, "Application does not have permission"), ErrorKind.PERMISSION),
    (400, graph_error(100, "Invalid parameter", kind="GraphMethodException"), ErrorKind.PERMANENT),
    (400, graph_error(506, "Duplicate status message"), ErrorKind.PERMANENT),
])
def test_errors_are_classified(graph, status, body, kind):
    handler = graph.expect_oneshot_request(path(PAGE, "feed"))
    if body is None:
        handler.respond_with_data("<html>Bad gateway</html>", status=status, content_type="text/html")
    else:
        handler.respond_with_json(body, status=status)
    with pytest.raises(GraphError) as caught:
        facebook().create_page_post(PAGE, message="Hello")
    assert caught.value.kind is kind
    assert caught.value.retryable == (kind in {ErrorKind.TRANSIENT, ErrorKind.THROTTLED})


def test_a_permanent_refusal_says_it_will_not_be_retried_in_plain_words(graph):
    graph.expect_oneshot_request(path(IG_USER, "media")).respond_with_json(
        {"error": {"message": "Invalid parameter", "type": "OAuthException", "code": 100, "error_subcode": 2207052,
                   "error_user_msg": "The image could not be fetched from this address.", "fbtrace_id": "T1"}},
        status=400,
    )
    with pytest.raises(GraphError) as caught:
        instagram().create_image_container(IG_USER, image_url="https://safe.example.org/m/x/", caption="Hi")
    explained = caught.value.explain()
    assert explained.startswith("Instagram refused this and it will not be retried.")
    assert "The image could not be fetched from this address." in explained


def test_a_duplicate_post_is_explained(graph):
    graph.expect_oneshot_request(path(PAGE, "feed")).respond_with_json(graph_error(506, "Duplicate"), status=400)
    with pytest.raises(GraphError) as caught:
        facebook().create_page_post(PAGE, message="Hello")
    assert "repeats a recent post" in caught.value.explain()


def test_an_answer_without_an_id_is_transient(graph):
    graph.expect_oneshot_request(path(PAGE, "feed")).respond_with_json({"success": True})
    with pytest.raises(GraphError) as caught:
        facebook().create_page_post(PAGE, message="Hello")
    assert caught.value.kind is ErrorKind.TRANSIENT


def test_a_timeout_is_transient(graph, settings):
    settings.META_GRAPH_TIMEOUT_SECONDS = 0.2

    def slow(request):
        time.sleep(0.6)
        return Response(json.dumps({"id": "late"}), content_type="application/json")

    graph.expect_oneshot_request(path(PAGE, "feed")).respond_with_handler(slow)
    with pytest.raises(GraphError) as caught:
        facebook().create_page_post(PAGE, message="Hello")
    assert caught.value.kind is ErrorKind.TRANSIENT
    assert "Facebook had a temporary problem. We will try again automatically." in caught.value.explain()
    assert "Could not reach Facebook" in caught.value.message


def test_an_unreachable_server_is_transient(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.META_GRAPH_BASE_URL = f"http://127.0.0.1:{port}"
    with pytest.raises(GraphError) as caught:
        facebook().create_page_post(PAGE, message="Hello")
    assert caught.value.kind is ErrorKind.TRANSIENT


def test_the_token_never_reaches_the_logs(graph, caplog):
    graph.expect_oneshot_request(path(PAGE, "feed")).respond_with_json({"id": "1_2"})
    graph.expect_oneshot_request(path(PAGE, "feed")).respond_with_json(graph_error(190, "Expired"), status=400)
    client = facebook()
    with caplog.at_level(logging.DEBUG):
        client.create_page_post(PAGE, message="Hello")
        with pytest.raises(GraphError) as caught:
            client.create_page_post(PAGE, message="Hello")
        logging.getLogger("test").error("failed: %s %r %r", caught.value, caught.value, client)
    assert "Graph API POST" in caplog.text
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(client) and TOKEN not in json.dumps(caught.value.as_record())
