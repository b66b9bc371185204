from django import forms

from nursery.models import Child, Role, Room

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class LeavingForm(forms.Form):
    left_on = forms.DateField(
        label="Leaving date", required=False, widget=DATE,
        help_text="The first day the child is no longer at the nursery. Empty: not leaving after all.",
    )
    reason = forms.CharField(max_length=200, help_text="Kept on the child's history, for example “Starting school”.")


class InviteForm(forms.Form):
    email = forms.EmailField()
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=Role.choices)
    child = forms.ModelChoiceField(
        queryset=Child.objects.none(), required=False, help_text="For a parent or carer: their child.",
    )
    relationship = forms.CharField(max_length=50, required=False, help_text="For example mother, father, carer.")
    parental_responsibility = forms.BooleanField(
        required=False, initial=True,
        help_text="Only a parent or carer with parental responsibility can give or withdraw photo consent.",
    )

    def __init__(self, *args, nursery, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["child"].queryset = Child.objects.on_roll().filter(nursery=nursery).order_by(
            "first_name", "last_name"
        )


class ChildForm(forms.Form):
    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100)
    date_of_birth = forms.DateField(widget=DATE)
    joined_on = forms.DateField(label="Joined on", widget=DATE)
    room = forms.ModelChoiceField(queryset=Room.objects.none(), required=False)
    reason = forms.CharField(max_length=200, required=False, help_text="Why (kept on the child's history).")

    def __init__(self, *args, nursery, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = Room.objects.filter(nursery=nursery, archived_at__isnull=True)


class RoomForm(forms.Form):
    name = forms.CharField(max_length=100, label="Room name")


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=200)


class StaffRoleForm(forms.Form):
    role = forms.ChoiceField(
        choices=[(r.value, r.label) for r in (Role.LEADERSHIP, Role.SAFEGUARDING_LEAD, Role.STAFF)]
    )


class RollUploadForm(forms.Form):
    file = forms.FileField(label="Roll CSV", help_text="UTF-8, with the header row (see the sample).")
    invite = forms.BooleanField(required=False, label="Email an invitation to each new parent or carer")
