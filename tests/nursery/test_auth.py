import re

from django.core import mail


def test_a_login_is_locked_after_repeated_failures(world, client, settings):
    settings.AXES_ENABLED = True
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "leader", "password": "guess"})
    locked = client.post("/accounts/login/", {"username": "leader", "password": "pw-for-tests"})
    assert locked.status_code == 429
    assert "locked" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_right_password_logs_in(world, client, settings):
    settings.AXES_ENABLED = True
    response = client.post("/accounts/login/", {"username": "leader", "password": "pw-for-tests"})
    assert response.status_code == 302 and response.url == "/"


def test_a_password_can_be_reset_by_email(world, client):
    client.post("/accounts/password_reset/", {"email": world.parent.email})
    [message] = mail.outbox
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", message.body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200
    done = client.post(form.redirect_chain[-1][0], {"new_password1": "a-long-new-secret-42",
                                                    "new_password2": "a-long-new-secret-42"})
    assert done.status_code == 302
    assert client.login(username="parent", password="a-long-new-secret-42")


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
