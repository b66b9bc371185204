from datetime import timedelta

from django import forms
from django.utils import timezone

from nursery.models import Child
from posts.models import Channel, FaceMarking, Occasion, Post, PostImage
from posts.publishing import publisher_choices, publisher_for

PHOTO_TYPES = "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if self.required and not files:
            raise forms.ValidationError("Choose at least one photo.")
        return [super(MultiplePhotoField, self).clean(f, initial) for f in files]


class PostForm(forms.ModelForm):
    channels = forms.ModelMultipleChoiceField(
        queryset=Channel.objects.none(), widget=forms.CheckboxSelectMultiple, required=False,
        help_text="Public channels need each child's public consent as well.",
    )
    scheduled_for = forms.DateTimeField(
        required=False, label="Publish at (optional)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Leave empty and a leader publishes it by hand once approved.",
    )

    class Meta:
        model = Post
        fields = ["caption", "channels", "occasion", "scheduled_for"]
        widgets = {"caption": forms.Textarea(attrs={"rows": 4})}
        help_texts = {"occasion": "Required when a photo shows children: photos are shared only for special occasions."}

    def __init__(self, *args, nursery, **kwargs):
        super().__init__(*args, **kwargs)
        channels = Channel.objects.filter(nursery=nursery)
        if self.instance.pk:
            channels = channels.filter(active=True) | channels.filter(posts=self.instance)
        else:
            channels = channels.filter(active=True)
        self.fields["channels"].queryset = channels.distinct().order_by("name")
        # Past occasions leave the list once their window closes (the post's own occasion stays while it is set).
        last_day = timezone.localdate() - timedelta(days=nursery.occasion_days_after)
        occasions = Occasion.objects.filter(nursery=nursery, date__gte=last_day)
        if self.instance.occasion_id:
            occasions = occasions | Occasion.objects.filter(pk=self.instance.occasion_id)
        self.fields["occasion"].queryset = occasions.distinct().order_by("date", "name")
        self.fields["occasion"].empty_label = "No occasion (no child in the photos)"
        if self.instance.scheduled_for:
            self.initial["scheduled_for"] = timezone.localtime(self.instance.scheduled_for)


class NewPostForm(PostForm):
    photos = MultiplePhotoField(
        required=False, widget=MultipleFileInput(attrs={"accept": PHOTO_TYPES}),
        help_text="JPEG, PNG, WebP or HEIC, up to 25 MB each. Location and camera details are removed.",
    )

    class Meta(PostForm.Meta):
        fields = ["caption", "photos", "channels", "occasion", "scheduled_for"]


class AddPhotosForm(forms.Form):
    photos = MultiplePhotoField(widget=MultipleFileInput(attrs={"accept": PHOTO_TYPES}), label="Add photos")


class ChildChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, child):
        return f"{child.full_name}" + (f" ({child.room.name})" if child.room_id else "")


class PhotoForm(forms.ModelForm):
    children = ChildChoiceField(
        queryset=Child.objects.none(), widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        required=False,
        label="Children in this photo", help_text="Tag every child who can be identified.",
    )

    class Meta:
        model = PostImage
        fields = ["alt_text", "children", "no_identifiable_child"]
        labels = {
            "alt_text": "Description (alt text)", "no_identifiable_child": "No child can be identified in this photo",
        }

    def __init__(self, *args, nursery, **kwargs):
        super().__init__(*args, **kwargs)
        on_roll = Child.objects.on_roll().filter(nursery=nursery)
        tagged = Child.objects.filter(pictured_in=self.instance) if self.instance.pk else Child.objects.none()
        self.fields["children"].queryset = (on_roll | tagged).distinct().select_related("room").order_by(
            "first_name", "last_name"
        )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("children") and cleaned.get("no_identifiable_child"):
            raise forms.ValidationError(
                "Either tag the children pictured or confirm that no child can be identified, not both."
            )
        return cleaned


class NoteForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def __init__(self, *args, label: str, required: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["note"].label = label
        self.fields["note"].required = required


class PublishForm(forms.Form):
    """One address field per channel that is posted by hand."""

    def __init__(self, *args, post: Post, **kwargs):
        super().__init__(*args, **kwargs)
        for channel in post.channels.all():
            if publisher_for(channel).asks_for_url:
                self.fields[f"url_{channel.pk}"] = forms.URLField(
                    required=False, assume_scheme="https", label=f"Address of the post on {channel.name}",
                    help_text="Post it there first, then paste its link here (you can leave it empty).",
                )

    def urls(self) -> dict[int, str]:
        return {int(name.removeprefix("url_")): value for name, value in self.cleaned_data.items() if value}


class ChannelForm(forms.ModelForm):
    publisher = forms.ChoiceField(choices=publisher_choices, label="How posts reach it")
    url = forms.URLField(required=False, assume_scheme="https", label="Address")

    class Meta:
        model = Channel
        fields = ["name", "platform", "audience", "url", "external_id", "publisher", "active"]


class OccasionForm(forms.ModelForm):
    class Meta:
        model = Occasion
        fields = ["name", "date", "description"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"}), "description": forms.Textarea(attrs={"rows": 3})}


class FacesForm(forms.Form):
    """One choice per detected face: a child tagged in the photo, an adult, not identifiable, not a face."""

    OTHER_ANSWERS = [(m.value, m.label) for m in FaceMarking if m != FaceMarking.CHILD]

    def __init__(self, *args, image: PostImage, faces, **kwargs):
        super().__init__(*args, **kwargs)
        self.children = {str(c.pk): c for c in image.children.all()}
        choices = [("", "Not accounted for yet")]
        choices += [(f"child:{pk}", child.full_name) for pk, child in self.children.items()]
        choices += self.OTHER_ANSWERS
        self.faces = list(faces)
        for face in self.faces:
            current = f"child:{face.child_id}" if face.child_id else face.marking
            self.fields[f"face{face.pk}"] = forms.ChoiceField(
                label=f"Face {face.number}", choices=choices, required=False, initial=current,
            )

    def bound_faces(self):
        return [(face, self[f"face{face.pk}"]) for face in self.faces]

    def marks(self) -> dict:
        """Face id to (marking, child), as ``services.account_for_faces`` takes them."""
        marks = {}
        for face in self.faces:
            answer = self.cleaned_data.get(f"face{face.pk}") or ""
            if answer.startswith("child:"):
                marks[face.pk] = (FaceMarking.CHILD, self.children[answer.removeprefix("child:")])
            else:
                marks[face.pk] = (answer, None)
        return marks
