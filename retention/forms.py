from django import forms
from django.contrib.auth import get_user_model

from nursery.models import Child
from retention.models import RetentionSchedule
from staff_conduct.models import Incident

PERIOD_FIELDS = [
    "notifications_days", "photos_after_leaving_days", "photos_after_takedown_days", "consent_years",
    "comments_months", "concerns_years", "safeguarding_years", "incidents_years", "invitations_days",
    "access_exports_days",
]


class ScheduleForm(forms.ModelForm):
    class Meta:
        model = RetentionSchedule
        fields = PERIOD_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in PERIOD_FIELDS:
            field = self.fields[name]
            low, high = (v.limit_value for v in RetentionSchedule._meta.get_field(name).validators[:2])
            field.widget.attrs.update(min=low, max=high)
            unit = name.rsplit("_", 1)[1]
            field.label = f"{field.help_text.split(',')[0]} ({unit})"
            field.help_text = f"{field.help_text} Between {low} and {high} {unit}."


class HoldForm(forms.Form):
    child = forms.ModelChoiceField(queryset=Child.objects.none(), required=False)
    person = forms.ModelChoiceField(queryset=get_user_model().objects.none(), required=False)
    incident = forms.ModelChoiceField(queryset=Incident.objects.none(), required=False,
                                      label="Conduct incident")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="Why deletion must wait: a claim, a complaint, a request from the police.")

    def __init__(self, *args, nursery, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["child"].queryset = Child.objects.filter(nursery=nursery).order_by("first_name", "last_name")
        self.fields["person"].queryset = _members(nursery)
        self.fields["person"].label_from_instance = lambda u: u.get_full_name() or u.username
        # Never an incident about the leader themselves: they may not see those.
        incidents = Incident.objects.filter(nursery=nursery).exclude(subject=user)
        self.fields["incident"].queryset = incidents.select_related("subject")
        self.fields["incident"].label_from_instance = (
            lambda i: f"#{i.pk} about {i.subject.get_full_name() or i.subject.username} ({i.get_status_display()})"
        )

    def clean(self):
        data = super().clean()
        if sum(bool(data.get(name)) for name in ("child", "person", "incident")) != 1:
            raise forms.ValidationError("Choose one child, one person or one incident.")
        return data


class ReleaseForm(forms.Form):
    release_reason = forms.CharField(label="Why the hold is no longer needed", widget=forms.Textarea(attrs={"rows": 2}))


def _members(nursery):
    return get_user_model().objects.filter(memberships__nursery=nursery).distinct().order_by("first_name", "last_name")


class PersonRequestForm(forms.Form):
    """A subject access or erasure request: whose, when it arrived, how identity was checked."""

    subject = forms.ModelChoiceField(queryset=get_user_model().objects.none(), label="Whose data",
                                     help_text="A parent or carer, or a member of staff, of this nursery.")
    received_on = forms.DateField(label="Request received on", help_text="The one-month deadline runs from this day.",
                                  widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                            help_text="How the request came in, and how you checked who they are.")

    def __init__(self, *args, nursery, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].queryset = _members(nursery)
        self.fields["subject"].label_from_instance = lambda u: u.get_full_name() or u.username
