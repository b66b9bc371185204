"""A Page access token is a secret: encrypted at rest, rotatable, and never in the admin or its history."""

from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection as db
from django.urls import reverse
from django.utils import timezone

from nursery.audit import acting_as
from nursery.crypto import Secret
from posts.meta.models import ChannelConnection
from tests.posts.graph.fake_graph import TOKEN


def stored_ciphertext(connection) -> str:
    with db.cursor() as cursor:
        cursor.execute("SELECT access_token FROM posts_channelconnection WHERE id = %s", [connection.pk])
        return cursor.fetchone()[0]


def test_rotating_the_key_re_encrypts_every_token(settings, facebook_page):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    ChannelConnection.objects.filter(channel=facebook_page).update(access_token=Secret(TOKEN))
    connection = ChannelConnection.objects.only("pk").get(channel=facebook_page)
    before = stored_ciphertext(connection)

    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    call_command("rotate_encryption_key", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_KEYS = [new]

    assert stored_ciphertext(connection) != before
    assert ChannelConnection.objects.get(pk=connection.pk).access_token.reveal() == TOKEN


def test_the_admin_never_shows_the_token_in_lists_pages_or_history(admin_client, world, facebook_page):
    connection = ChannelConnection.objects.get(channel=facebook_page)
    with acting_as(world.leader, "Replaced the token"):
        connection.access_token = "EAAGsecondSECRETtoken"
        connection.connected_at = timezone.now()
        connection.save()
    pages = [
        reverse("admin:posts_channelconnection_changelist"),
        reverse("admin:posts_channelconnection_change", args=[connection.pk]),
        reverse("admin:posts_channelconnection_history", args=[connection.pk]),
    ]
    for history_row in connection.history.all():
        pages.append(reverse("admin:posts_channelconnection_simple_history",
                             args=[connection.pk, history_row.history_id]))
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert TOKEN not in body and "EAAGsecondSECRETtoken" not in body, url
        assert stored_ciphertext(connection) not in body, url


def test_the_admin_cannot_add_or_change_a_connection(admin_client, facebook_page):
    connection = ChannelConnection.objects.get(channel=facebook_page)
    assert admin_client.get(reverse("admin:posts_channelconnection_add")).status_code == 403
    admin_client.post(reverse("admin:posts_channelconnection_change", args=[connection.pk]),
                      {"account_name": "changed"})
    connection.refresh_from_db()
    assert connection.account_name != "changed"
