from crispy_forms.helper import FormHelper
from django import forms
from django.utils import timezone

from nursery.errors import ServiceError
from nursery.models import Role
from nursery.permissions import users_with_role
from nursery.signatures import mismatch_message, signs_for
from staff_conduct import queries
from staff_conduct.evidence import check_evidence
from staff_conduct.models import AppealDecision, Outcome, PolicyKind, Source, Status


class DateInput(forms.DateInput):
    """The browser's date picker, which only understands ISO dates (not the en-GB 25/11/2026)."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


def person_label(user) -> str:
    return user.get_full_name() or user.username


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return person_label(obj)


class ClauseChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.number}. {obj.text}"


class CrispyForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class EvidenceField(forms.FileField):
    """A file checked by content (image or PDF, at most 10 MB) before any service sees it."""

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if upload:
            try:
                check_evidence(upload)
            except ServiceError as exc:
                raise forms.ValidationError(exc.message) from exc
        return upload


class AcknowledgeForm(CrispyForm):
    signature = forms.CharField(
        label="Type your full name to confirm that you have read and will follow this policy", max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def __init__(self, *args, signer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.signer = signer

    def clean_signature(self):
        signature = self.cleaned_data["signature"]
        if self.signer is not None and not signs_for(signature, self.signer):
            raise forms.ValidationError(mismatch_message(self.signer, own=True))
        return signature


class PublishVersionForm(CrispyForm):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), help_text="The introduction and the text "
                           "around the clauses, as people will read it.")
    clauses = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 10}),
        help_text="One clause per line (one per bullet of the policy). Incidents cite them by number.",
    )
    effective_on = forms.DateField(label="In force from", widget=DateInput)

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clauses"].required = kind == PolicyKind.STAFF

    def clause_lines(self) -> list[str]:
        return [line.strip().lstrip("·•-*").strip() for line in self.cleaned_data["clauses"].splitlines()]


class ReportConcernForm(CrispyForm):
    subject = PersonChoiceField(queryset=None, label="Who is the concern about?")
    source = forms.ChoiceField(
        label="How do you want to make this report?", choices=Source.choices, initial=Source.NAMED,
        widget=forms.RadioSelect,
        help_text="Whistleblowing: only the nursery's whistleblowing officer can see that you made the report. "
                  "Anonymous: nobody can see it, and nobody can ask you more about it.",
    )
    occurred_on = forms.DateField(label="When did it happen?", widget=DateInput)
    where = forms.CharField(required=False, max_length=300, label="Where did you see it?",
                            help_text="For example: a Facebook post, an Instagram story, a WhatsApp group.")
    description = forms.CharField(label="What happened?", widget=forms.Textarea(attrs={"rows": 5}))
    clauses = ClauseChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple,
        label="Which parts of the staff social media policy does it go against? (if you know)",
    )
    evidence = EvidenceField(required=False, label="Screenshot or PDF (optional)",
                             help_text="A PNG, JPEG, WebP or GIF image, or a PDF, up to 10 MB.",
                             widget=forms.ClearableFileInput(attrs={"accept": "image/*,application/pdf"}))

    def __init__(self, *args, nursery, reporter, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].queryset = queries.staff_members(nursery).exclude(pk=reporter.pk)
        current = queries.current_version(nursery, PolicyKind.STAFF)
        self.fields["clauses"].queryset = current.clauses.all() if current else queries.staff_clauses(nursery).none()
        self.fields["occurred_on"].initial = timezone.localdate()


class AssignForm(CrispyForm):
    investigator = PersonChoiceField(queryset=None, label="Investigator (leadership team)")
    due_on = forms.DateField(label="Investigation due by", widget=DateInput)

    def __init__(self, *args, incident, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["investigator"].queryset = users_with_role(incident.nursery, Role.LEADERSHIP).exclude(
            pk=incident.subject_id
        )
        self.initial.setdefault("investigator", incident.investigator_id)
        self.initial.setdefault("due_on", incident.investigation_due_on)


class NoteForm(CrispyForm):
    text = forms.CharField(label="Investigation note", widget=forms.Textarea(attrs={"rows": 3}),
                           help_text="Notes cannot be edited or deleted once added.")


class EvidenceForm(CrispyForm):
    file = EvidenceField(label="Screenshot or PDF", help_text="A PNG, JPEG, WebP or GIF image, or a PDF, up to 10 MB.",
                         widget=forms.ClearableFileInput(attrs={"accept": "image/*,application/pdf"}))
    description = forms.CharField(required=False, max_length=300, label="What it shows")


class OutcomeForm(CrispyForm):
    outcome = forms.ChoiceField(choices=Outcome.choices)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="The staff member is told the outcome and this reason.")
    decided_on = forms.DateField(label="Decided on", widget=DateInput, initial=timezone.localdate)


class CloseForm(CrispyForm):
    pass


class AppealForm(CrispyForm):
    received_on = forms.DateField(label="Appeal received on", widget=DateInput, initial=timezone.localdate)
    grounds = forms.CharField(label="Grounds of the appeal", widget=forms.Textarea(attrs={"rows": 3}))


class AppealDecisionForm(CrispyForm):
    decision = forms.ChoiceField(choices=AppealDecision.choices, widget=forms.RadioSelect)
    varied_outcome = forms.ChoiceField(choices=[("", "—"), *Outcome.choices], required=False,
                                       label="New outcome (when varied)")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="The staff member is told the decision and this reason.")
    decided_on = forms.DateField(label="Decided on", widget=DateInput, initial=timezone.localdate)


class IncidentFilterForm(forms.Form):
    """The incident list's filters. Clause and staff member are plain choices read with one narrow query each
    (a model choice field reads its rows through a server-side cursor, three round trips, and checks the chosen
    one with another query); the ids it returns are among those choices, so they belong to this nursery."""

    status = forms.ChoiceField(required=False, choices=[("", "Any status"), ("open", "Open"), *Status.choices])
    clause = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Policy clause")
    subject = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Staff member")

    def __init__(self, *args, nursery, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        clauses = queries.staff_clauses(nursery).values_list("pk", "version__version", "number", "text")
        self.fields["clause"].choices = [("", "Any clause")] + [
            (pk, f"v{version} · {number}. {text[:70]}") for pk, version, number, text in clauses]
        people = queries.staff_members(nursery).exclude(pk=viewer.pk).values_list(
            "pk", "first_name", "last_name", "username")
        self.fields["subject"].choices = [("", "Any staff member")] + [
            (pk, f"{first} {last}".strip() or username) for pk, first, last, username in people]
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select"
