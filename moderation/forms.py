import io

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import InMemoryUploadedFile
from PIL import Image, UnidentifiedImageError

from moderation.models import Action, ScreeningRule
from posts.models import Channel

MAX_SCREENSHOT_BYTES = 5 * 1024 * 1024
MAX_SCREENSHOT_PIXELS = 40_000_000
SCREENSHOT_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


def _helper(label: str) -> FormHelper:
    helper = FormHelper()
    helper.add_input(Submit("submit", label))
    return helper


def safe_screenshot(upload) -> InMemoryUploadedFile:
    """A real image within limits, re-encoded as PNG so no metadata (location, device) is kept."""
    if upload.size > MAX_SCREENSHOT_BYTES:
        raise ValidationError("The screenshot is too large: keep it under 5 MB.")
    try:
        with Image.open(upload) as probe:
            if probe.format not in SCREENSHOT_FORMATS:
                raise ValidationError("Upload a JPEG, PNG, WebP or GIF screenshot.")
            if probe.width * probe.height > MAX_SCREENSHOT_PIXELS:
                raise ValidationError("The screenshot is too large in pixels.")
            probe.verify()
        upload.seek(0)
        with Image.open(upload) as image:
            image.load()
            clean = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as exc:
        raise ValidationError("That file is not an image we can read.") from exc
    buffer = io.BytesIO()
    clean.save(buffer, format="PNG", optimize=True)
    size = buffer.tell()
    buffer.seek(0)
    return InMemoryUploadedFile(buffer, "screenshot", "screenshot.png", "image/png", size, None)


class ConcernForm(forms.Form):
    description = forms.CharField(
        label="What did you see, or what worries you?", widget=forms.Textarea(attrs={"rows": 5}), max_length=5000,
    )
    channel = forms.ModelChoiceField(
        queryset=Channel.objects.none(), required=False, label="On which of the nursery's pages (if any)?",
        empty_label="Somewhere else / not on our pages",
    )
    where_seen = forms.CharField(
        label="Where did you see it?", required=False, max_length=200,
        help_text="For example: a parent's own Facebook page, a WhatsApp group, in person.",
    )
    link = forms.URLField(label="Link (if there is one)", required=False, max_length=500, assume_scheme="https")
    screenshot = forms.ImageField(
        required=False, help_text="Optional. JPEG, PNG, WebP or GIF, up to 5 MB. We remove any location data.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
    )

    def __init__(self, *args, nursery, staff: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = Channel.objects.filter(nursery=nursery, active=True)
        if staff:
            self.fields["description"].label = "The comment or question, word for word if you can, and who made it"
        self.helper = _helper("Send to the safeguarding lead")

    def clean_screenshot(self):
        upload = self.cleaned_data.get("screenshot")
        return safe_screenshot(upload) if upload else None


class ManualCommentForm(forms.Form):
    channel = forms.ModelChoiceField(queryset=Channel.objects.none(), label="Page or account")
    author_name = forms.CharField(label="Who wrote it (as shown on the platform)", max_length=200)
    text = forms.CharField(label="The comment, copied exactly", widget=forms.Textarea(attrs={"rows": 4}),
                           max_length=8000)
    link = forms.URLField(label="Link to the comment or post", required=False, max_length=500,
                          assume_scheme="https")

    def __init__(self, *args, nursery, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = Channel.objects.filter(
            nursery=nursery, active=True, platform__in=["facebook", "instagram", "other"]
        )
        self.helper = _helper("Add to the moderation queue")


class ResolveForm(forms.Form):
    action = forms.ChoiceField(label="Decision", choices=[c for c in Action.choices if c[0] != Action.ACKNOWLEDGED])
    reason = forms.CharField(label="Reason (kept in the record)", widget=forms.Textarea(attrs={"rows": 2}),
                             max_length=2000)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, item=None, **kwargs):
        super().__init__(*args, **kwargs)
        if item is not None:
            if item.concern_id:
                self.fields["action"].choices = [
                    c for c in self.fields["action"].choices if c[0] not in (Action.HIDE, Action.DELETE)
                ]
            self.fields["version"].initial = item.version
            prefix = f"item-{item.pk}"
            self.fields["action"].widget.attrs["id"] = f"{prefix}-action"
            self.fields["reason"].widget.attrs["id"] = f"{prefix}-reason"


class DoneByHandForm(forms.Form):
    note = forms.CharField(label="How (optional)", max_length=500, required=False)


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class RuleForm(forms.ModelForm):
    class Meta:
        model = ScreeningRule
        fields = ["name", "kind", "category", "severity", "words", "pattern", "detector", "active"]
        widgets = {"words": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, nursery, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.nursery = nursery
        self.helper = _helper("Save rule")

    def clean_name(self):
        name = self.cleaned_data["name"]
        same = ScreeningRule.objects.filter(nursery=self.instance.nursery, name__iexact=name)
        if same.exclude(pk=self.instance.pk).exists():
            raise ValidationError("Another rule already has this name.")
        return name
