"""Two-factor sign-in for everyone who can read safeguarding records (REQUIRE_TWO_FACTOR on)."""

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from nursery import twofactor
from nursery.models import Notification
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _required(settings):
    settings.REQUIRE_TWO_FACTOR = True


def code_for(device: TOTPDevice, *, step: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    totp.time = totp.time + step * device.step
    return f"{totp.token():06d}"


def password_login(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": "pw-for-tests"})
    assert response.status_code == 302
    return client.get(response.url)


def enrolled(user) -> TOTPDevice:
    device = twofactor.pending_device(user)
    twofactor.confirm_device(user, device=device, token=code_for(device))
    return device


def test_who_needs_it(world):
    admin = UserFactory(is_superuser=True, is_staff=True)
    assert all(twofactor.needs_two_factor(u) for u in (world.leader, world.deputy, world.dsl, admin))
    assert not any(twofactor.needs_two_factor(u) for u in (world.practitioner, world.parent))


def test_a_leader_without_an_authenticator_sets_one_up_before_anything_else(client, world):
    response = password_login(client, world.leader)
    assert response.status_code == 302 and response.url.startswith(reverse("two_factor_enrol"))
    page = client.get(reverse("two_factor_enrol"))
    body = page.content.decode()
    assert "<svg" in body and "Set up two-factor sign-in" in body
    device = TOTPDevice.objects.get(user=world.leader, confirmed=False)
    assert page.context["secret"].replace(" ", "") in device.config_url
    assert client.get(reverse("consent:register")).status_code == 302  # nothing else until it is set up
    wrong = client.post(reverse("two_factor_enrol"), {"code": "000000"})
    assert wrong.status_code == 400 and "not right" in wrong.content.decode()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)  # a moment later
    done = client.post(reverse("two_factor_enrol"), {"code": code_for(device)})
    assert done.status_code == 200 and len(done.context["codes"]) == 10
    assert client.get(reverse("consent:register")).status_code == 200


def test_the_code_is_asked_after_the_password_and_leads_back(client, world):
    device = enrolled(world.dsl)
    response = password_login(client, world.dsl)
    assert response.url == reverse("two_factor_verify") + "?next=/"
    assert client.get(reverse("moderation:queue")).status_code == 302
    bad = client.post(reverse("two_factor_verify") + "?next=/moderation/", {"code": "123456", "next": "/moderation/"})
    assert bad.status_code == 400
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)  # a moment later
    replayed = client.post(reverse("two_factor_verify"), {"code": code_for(device)})  # used to set it up
    assert replayed.status_code == 400
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    good = client.post(reverse("two_factor_verify"), {"code": code_for(device, step=1), "next": "https://evil.example/"})
    assert good.status_code == 302 and good.url == "/"
    assert client.get(reverse("moderation:queue")).status_code == 200


def test_wrong_codes_are_throttled(world):
    device = enrolled(world.leader)
    assert twofactor.verify(world.leader, "000000") is None
    assert twofactor.verify(world.leader, code_for(device)) is None  # refused for a moment after a failure
    device.refresh_from_db()
    assert device.throttling_failure_count == 1


def test_a_recovery_code_signs_in_once(client, world):
    device = twofactor.pending_device(world.leader)
    codes = twofactor.confirm_device(world.leader, device=device, token=code_for(device))
    password_login(client, world.leader)
    assert client.post(reverse("two_factor_verify"), {"code": codes[0]}).status_code == 302
    assert StaticDevice.objects.get(user=world.leader).token_set.count() == 9
    client.logout()
    password_login(client, world.leader)
    assert client.post(reverse("two_factor_verify"), {"code": codes[0]}).status_code == 400


def test_the_admin_requires_it_too(client, world):
    admin = UserFactory(username="ada", is_superuser=True, is_staff=True)
    enrolled(admin)
    client.force_login(admin)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response.url.startswith(reverse("two_factor_verify"))


def test_parents_and_practitioners_sign_in_as_before(client, world):
    for user in (world.parent, world.practitioner):
        assert password_login(client, user).status_code == 200
        client.logout()


def test_switched_off_a_leader_signs_in_with_the_password(client, world, settings):
    settings.REQUIRE_TWO_FACTOR = False
    assert password_login(client, world.leader).status_code == 200


def test_another_leader_resets_a_lost_device_audited_and_told(client, world):
    enrolled(world.dsl)
    other = client.__class__()
    other.force_login(world.dsl)  # a session on the lost phone
    client.force_login(world.leader)
    session = client.session
    session["otp_device_id"] = enrolled(world.leader).persistent_id
    session.save()
    response = client.post(reverse("two_factor_reset", args=[world.dsl.pk]), {"reason": "Phone lost"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=world.dsl).exists()
    assert not StaticDevice.objects.filter(user=world.dsl).exists()
    assert other.get(reverse("home")).status_code == 302  # signed out everywhere
    assert Notification.objects.filter(recipient=world.dsl, subject__contains="two-factor").exists()
    entry = LogEntry.objects.get(object_id=str(world.dsl.pk))
    assert entry.user == world.leader and "Phone lost" in entry.get_change_message()


def test_a_reset_needs_a_reason_and_someone_else(world):
    from nursery.errors import ServiceError

    with pytest.raises(ServiceError, match="why"):
        twofactor.reset_two_factor(world.leader, user=world.dsl, reason=" ")
    with pytest.raises(ServiceError, match="not you"):
        twofactor.reset_two_factor(world.leader, user=world.leader, reason="lost")
    with pytest.raises(ServiceError, match="Only a leader"):
        twofactor.reset_two_factor(world.practitioner, user=world.dsl, reason="lost")
    with pytest.raises(ServiceError, match="Only a leader"):
        twofactor.reset_two_factor(world.outsider, user=world.dsl, reason="lost")


def test_the_demo_leaders_sign_in_with_the_demo_code(client, world):
    """What seed_demo does for its leaders, safeguarding lead and admin (``twofactor.enrol_demo``)."""
    import io

    assert twofactor.enrol_demo([world.leader, world.practitioner]) == ["leader"]  # only who needs it
    assert twofactor.enrol_demo([world.leader]) == ["leader"] and TOTPDevice.objects.count() == 1  # idempotent
    response = client.post(reverse("login"), {"username": "leader", "password": "pw-for-tests"})
    assert client.get(response.url).url.startswith(reverse("two_factor_verify"))
    code = io.StringIO()
    call_command("demo_code", stdout=code)
    assert client.post(reverse("two_factor_verify"), {"code": code.getvalue().strip()}).status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_seed_demo_enrols_the_demo_leaders_safeguarding_lead_and_admin(db):
    import io

    call_command("seed_demo", stdout=(out := io.StringIO()))
    enrolled = set(TOTPDevice.objects.filter(confirmed=True).values_list("user__username", flat=True))
    assert enrolled == {"leader", "deputy", "dsl", "admin", "acorns_leader"}
    assert twofactor.DEMO_TOTP_SECRET in out.getvalue() and "demo_code" in out.getvalue()
