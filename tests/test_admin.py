"""The administrator audits everything in the Django admin: every model is there, with its history."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from nursery.admin import AuditedAdmin

OUR_APPS = ["nursery", "consent", "posts", "moderation", "staff_conduct", "retention", "inspection", "people"]
# Models without a history table of their own, and why.
NO_HISTORY_NEEDED = {
    "nursery.notification": "records a moment; never changes except read/emailed stamps",
    "nursery.outboxmessage": "is itself the record of a side effect: its state, attempts and last error",
    "posts.postevent": "is itself the append-only audit log of a post's transitions",
    "staff_conduct.confidentialreporter": "a history table would copy the whistleblower's identity",
    "moderation.webhookdelivery": "the raw delivery as received; only its processing stamp changes",
    "moderation.commentversion": "is itself the append-only record of a comment's texts",
    "moderation.commentevent": "is itself the append-only record of what the platform told us",
    "moderation.rulehit": "derived from a comment's text by the rules; each screening is an item action",
    "moderation.itemaction": "is itself the append-only story of a moderation item",
    "moderation.escalation": "is itself the append-only record of escalations sent",
    "retention.retentionrun": "is itself the log of retention runs (kinds and counts)",
    "retention.retentioncount": "is itself the log of what a retention run removed (counts only)",
}


def our_models():
    for label in OUR_APPS:
        for model in apps.get_app_config(label).get_models():
            if not model.__name__.startswith("Historical") and not model._meta.auto_created:
                yield model


@pytest.mark.parametrize("model", list(our_models()), ids=lambda m: m._meta.label_lower)
def test_every_model_is_in_the_admin_with_history(model):
    assert admin.site.is_registered(model), f"register {model._meta.label} in its app's admin.py"
    if model._meta.label_lower in NO_HISTORY_NEEDED:
        return
    assert hasattr(model, "history"), f"{model._meta.label} needs history() from nursery.audit"
    assert isinstance(admin.site._registry[model], AuditedAdmin), (
        f"{model._meta.label}'s admin must extend nursery.admin.AuditedAdmin (history that cannot be reverted)"
    )


@pytest.mark.parametrize("model", list(our_models()), ids=lambda m: m._meta.label_lower)
def test_every_admin_list_opens(model, admin_client, world):
    opts = model._meta
    response = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert response.status_code == 200


# --- The admin is for superusers only (nursery/admin_site.py) ----------------------------------------


@pytest.fixture
def staff_flagged_leader(world):
    """A leader of Kids Count given the admin's staff flag and every model permission, but not superuser."""
    from django.contrib.auth.models import Permission

    user = world.leader
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.all())
    return user


def registered_models():
    return sorted(admin.site._registry, key=lambda m: m._meta.label_lower)


@pytest.mark.parametrize("model", registered_models(), ids=lambda m: m._meta.label_lower)
def test_a_staff_flagged_non_superuser_opens_no_admin_page(model, client, world, staff_flagged_leader):
    opts = model._meta
    client.force_login(staff_flagged_leader)
    for name in ("changelist", "add"):
        response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_{name}"))
        assert response.status_code == 302 and "/admin/login/" in response["Location"], name


def test_another_nurserys_records_stay_closed_to_a_staff_flagged_member(client, world, staff_flagged_leader):
    from tests.factories import ChildFactory

    theirs = ChildFactory(nursery=world.other_nursery, first_name="Zed")
    client.force_login(staff_flagged_leader)
    for url in (
        reverse("admin:index"),
        reverse("admin:nursery_child_change", args=[theirs.pk]),
        reverse("admin:nursery_child_history", args=[theirs.pk]),
        reverse("admin:autocomplete"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "Zed" not in response.content.decode(), url


def test_the_admin_login_refuses_a_staff_flagged_non_superuser_with_the_reason(client, world, staff_flagged_leader):
    response = client.post(reverse("admin:login"), {"username": "leader", "password": "pw-for-tests"})
    assert response.status_code == 200
    assert "for the administrator only" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_superuser_still_audits_every_nursery(admin_client, world):
    from tests.factories import ChildFactory

    theirs = ChildFactory(nursery=world.other_nursery)
    assert admin_client.get(reverse("admin:nursery_child_change", args=[theirs.pk])).status_code == 200


def _a_recorded_object(model, world):
    """An object of ``model`` with at least one history row, made by the app's factories or the world."""
    from tests.consent.factories import paper_decision
    from tests.staff_conduct.access import _incident as an_incident

    made = {"consent.consentdecision": lambda: paper_decision(world.child, world.parent, world.leader),
            "staff_conduct.incident": lambda: an_incident(world)}
    make = made.get(model._meta.label_lower)
    if make:
        make()
    return model.history.model.objects.order_by("-history_id").first()


@pytest.mark.parametrize("label", ["staff_conduct.incident", "consent.consentdecision", "nursery.child"])
def test_every_past_version_opens_and_an_unknown_one_is_not_found(label, admin_client, world):
    model = apps.get_model(label)
    version = _a_recorded_object(model, world)
    opts = model._meta

    def url(name, *args):
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_{name}", args=args)

    assert admin_client.get(url("history", version.id)).status_code == 200
    assert admin_client.get(url("simple_history", version.id, version.history_id)).status_code == 200
    for missing in [url("simple_history", version.id, 999999), url("simple_history", version.id, "abc"),
                    url("simple_history", "abc", version.history_id), url("history", 999999), url("history", "abc")]:
        assert admin_client.get(missing).status_code == 404, missing


def test_a_past_version_of_an_incident_is_hidden_from_its_subject(admin_client, world):
    version = _a_recorded_object(apps.get_model("staff_conduct.incident"), world)
    subject = version.instance.subject
    subject.is_staff = subject.is_superuser = True
    subject.save()
    admin_client.force_login(subject)
    past = reverse("admin:staff_conduct_incident_simple_history", args=[version.id, version.history_id])
    assert admin_client.get(past).status_code == 404


def test_the_administrator_resets_a_lost_two_factor_device(admin_client, world):
    from django.contrib.admin.models import LogEntry
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=world.dsl, name="Authenticator app", confirmed=True)
    response = admin_client.post(reverse("admin:auth_user_changelist"),
                                 {"action": "reset_two_factor", "_selected_action": [world.dsl.pk]})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=world.dsl).exists()
    assert LogEntry.objects.filter(object_id=str(world.dsl.pk), change_message__contains="two-factor").exists()
