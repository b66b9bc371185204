from django import forms

from nursery.crypto import SecretFormField


class ConnectChannelForm(forms.Form):
    access_token = SecretFormField(
        label="Page access token",
        help_text="Paste a long-lived Page access token (see “Connecting Facebook and Instagram” in the guide). "
                  "It is stored encrypted and never shown again.",
        max_length=1000,
    )
