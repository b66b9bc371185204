import pytest
from django.apps import apps

from nursery.ledger import AppendOnlyModel, ImmutableRowError

RECORDS = [m for m in apps.get_models() if issubclass(m, AppendOnlyModel)]


def test_the_evidence_records_are_append_only():
    names = {m._meta.label for m in RECORDS}
    assert {"consent.ConsentDecision", "staff_conduct.Acknowledgement", "staff_conduct.InvestigationNote",
            "moderation.ItemAction", "posts.PostEvent"} <= names


@pytest.mark.django_db
@pytest.mark.parametrize("model", RECORDS, ids=lambda m: m._meta.label)
def test_no_bulk_update_or_delete_gets_past_a_record(model):
    with pytest.raises(ImmutableRowError):
        model.objects.all().update(pk=1)
    with pytest.raises(ImmutableRowError):
        model.objects.all().delete()
