from django import forms

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class LeavingForm(forms.Form):
    left_on = forms.DateField(
        label="Leaving date", required=False, widget=DATE,
        help_text="The first day the child is no longer at the nursery. Empty: not leaving after all.",
    )
    reason = forms.CharField(max_length=200, help_text="Kept on the child's history, for example “Starting school”.")
