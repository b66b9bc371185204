"""Staff sessions end when idle; parents stay signed in longer; a new password ends the other sessions."""

from datetime import timedelta

from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone


def test_a_staff_session_ends_after_thirty_idle_minutes(client, world, settings):
    client.force_login(world.practitioner)
    client.get(reverse("home"))
    assert client.session.get_expiry_age() == settings.STAFF_SESSION_IDLE_MINUTES * 60 == 1800
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1))  # 30 minutes later, nothing in between
    assert client.get(reverse("home")).status_code == 302


def test_a_request_a_minute_later_starts_the_idle_time_again(client, world):
    client.force_login(world.leader)
    session = client.session
    session["seen_at"] -= 61
    session.save()
    first = Session.objects.get(session_key=session.session_key).expire_date
    client.get(reverse("home"))
    assert Session.objects.get(session_key=session.session_key).expire_date > first
    assert client.session["seen_at"] > session["seen_at"]


def test_a_parent_stays_signed_in_for_fourteen_days(client, world):
    client.force_login(world.parent)
    client.get(reverse("home"))
    assert client.session.get_expiry_age() == 14 * 24 * 3600


def test_changing_the_password_ends_the_other_sessions(client, world):
    elsewhere = Client()
    elsewhere.force_login(world.parent)
    client.force_login(world.parent)
    response = client.post(reverse("password_change"), {
        "old_password": "pw-for-tests", "new_password1": "a-new-long-passphrase-7", "new_password2":
        "a-new-long-passphrase-7"})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200  # this one goes on
    assert elsewhere.get(reverse("home")).status_code == 302  # the other is signed out
