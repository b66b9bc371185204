from django import forms
from django.utils import timezone

from consent.models import ConsentWording, Decision, Scope
from consent.services import clean_signature
from consent.uploads import MAX_SCAN_BYTES
from nursery.errors import ServiceError
from nursery.models import Child
from nursery.signatures import mismatch_message, signs_for


class SignatureField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        try:
            return clean_signature(value)
        except ServiceError as exc:
            raise forms.ValidationError(exc.message) from exc


class SeenForm(forms.Form):
    """What the page showed: the newest decision, so a replayed or stale form records nothing."""

    seen = forms.IntegerField(widget=forms.HiddenInput, required=False)


class GrantForm(SeenForm):
    """``signer``: the person signing, whose name on record the typed signature must be."""

    wording = forms.IntegerField(widget=forms.HiddenInput)
    read = forms.BooleanField(
        label="I have read this and I agree", error_messages={"required": "Please tick to say you have read it."}
    )
    signature = SignatureField(
        label="Type your full name as your signature", max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name", "autocapitalize": "words"}),
        error_messages={"required": "Please type your full name as your signature."},
    )

    def __init__(self, *args, signer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.signer = signer

    def clean_signature(self):
        signature = self.cleaned_data["signature"]
        if self.signer is not None and not signs_for(signature, self.signer):
            raise forms.ValidationError(mismatch_message(self.signer, own=True))
        return signature


class ChooseChildForm(forms.Form):
    child = forms.ModelChoiceField(queryset=Child.objects.none(), label="Child", empty_label="Choose a child")

    def __init__(self, *args, nursery, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["child"].queryset = Child.objects.on_roll().filter(nursery=nursery).select_related("room")
        self.fields["child"].label_from_instance = lambda c: f"{c.full_name} ({c.room or 'no room'})"


class PaperForm(forms.Form):
    scope = forms.ChoiceField(choices=Scope.choices, label="Consent for", widget=forms.RadioSelect)
    decision = forms.ChoiceField(
        choices=[(Decision.GRANTED, "Gives consent"), (Decision.WITHDRAWN, "Withdraws consent (or says no)")],
        label="The form", widget=forms.RadioSelect,
    )
    guardian = forms.ModelChoiceField(queryset=None, label="Signed by", empty_label="Choose the parent or carer")
    signature = forms.CharField(
        label="Name as written on the form", max_length=200, required=False,
        help_text="Needed when the form gives consent.",
    )
    signed_on = forms.DateField(label="Date signed", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    wording = forms.ModelChoiceField(
        queryset=None, label="Wording printed on the form", required=False, empty_label="The current version",
        help_text="The version number is printed at the foot of the form. Leave empty for the current version.",
    )
    scan = forms.FileField(
        label="Scan or photo of the signed form",
        help_text=f"JPEG, PNG or PDF, up to {MAX_SCAN_BYTES // (1024 * 1024)} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"}),
    )

    def __init__(self, *args, child, **kwargs):
        super().__init__(*args, **kwargs)
        from django.contrib.auth import get_user_model

        self.fields["guardian"].queryset = get_user_model().objects.filter(
            guardianships__child=child, guardianships__has_parental_responsibility=True
        ).order_by("first_name", "last_name")
        self.fields["guardian"].label_from_instance = lambda u: u.get_full_name() or u.username
        self.fields["wording"].queryset = ConsentWording.objects.filter(nursery_id=child.nursery_id)
        self.fields["signed_on"].initial = timezone.localdate()

    def clean_signature(self):
        return " ".join(self.cleaned_data["signature"].split())

    def clean(self):
        data = super().clean()
        guardian, signature = data.get("guardian"), data.get("signature")
        if guardian and signature and not signs_for(signature, guardian):
            self.add_error("signature", mismatch_message(guardian, own=False))
        return data


class WordingForm(forms.Form):
    text = forms.CharField(
        label="Wording", widget=forms.Textarea(attrs={"rows": 14}),
        help_text="Name the nursery, say what photos are for and where they are shared, and that consent can be "
        "withdrawn at any time and how.",
    )
    understood = forms.BooleanField(
        label="I understand that every family must agree to this new version before photos of their child "
        "can be shared again",
        error_messages={"required": "Please confirm that you understand what publishing does."},
    )
