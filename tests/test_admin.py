"""The administrator audits everything in the Django admin: every model is there, with its history."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from nursery.admin import AuditedAdmin

OUR_APPS = ["nursery", "consent", "posts", "moderation", "staff_conduct", "retention"]
# Models without a history table of their own, and why.
NO_HISTORY_NEEDED = {
    "nursery.notification": "records a moment; never changes except read/emailed stamps",
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
