import pytest


@pytest.mark.django_db
def test_it_reports_database_and_broker_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok",
                               "outbox": {"waiting": 0, "oldest_seconds": 0, "dead": 0}}


@pytest.mark.django_db
def test_it_says_which_part_is_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"].startswith("down")
    assert body["status"] == "unavailable"


@pytest.mark.django_db
def test_it_reports_a_database_that_is_down(client, monkeypatch):
    from nursery import views

    def broken_cursor():
        raise OSError("connection refused")

    monkeypatch.setattr(views.connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "down: OSError"


@pytest.mark.django_db
def test_it_reports_the_outbox_and_is_degraded_when_the_oldest_waits_too_long(client):
    from datetime import timedelta

    from django.utils import timezone

    from nursery.models import OutboxMessage

    now = timezone.now()
    OutboxMessage.objects.create(task_name="nursery.tasks.send_notification_email", args=[1], created_at=now,
                                 due_at=now - timedelta(minutes=5))
    OutboxMessage.objects.create(task_name="nursery.tasks.send_notification_email", args=[2], created_at=now,
                                 due_at=now + timedelta(hours=1))  # a retry later: not waiting yet
    OutboxMessage.objects.create(task_name="x", created_at=now, due_at=now, state=OutboxMessage.State.DEAD)
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["outbox"]["waiting"] == 1 and body["outbox"]["dead"] == 1
    assert 299 <= body["outbox"]["oldest_seconds"] <= 310

    OutboxMessage.objects.filter(args=[1]).update(due_at=now - timedelta(minutes=16))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "degraded"


@pytest.mark.django_db
def test_a_database_that_is_down_gets_the_503_page_not_a_traceback(client, settings):
    settings.ROOT_URLCONF = "tests.nursery.urls_db_down"
    client.raise_request_exception = False
    response = client.get("/")
    assert response.status_code == 503
    page = response.content.decode()
    assert "back in a moment" in page and "Traceback" not in page and "5432" not in page
    assert response["Retry-After"] == "60"


@pytest.mark.django_db
def test_any_other_error_gets_the_500_page():
    from nursery.views import server_error

    try:
        raise ValueError("boom")
    except ValueError:
        response = server_error(None)
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
