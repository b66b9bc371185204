"""Secrets at rest: values encrypted with Fernet, and a model field that keeps them out of sight.

The key comes from the environment (``FIELD_ENCRYPTION_KEY``: one or more urlsafe-base64 32-byte keys,
comma-separated). The first key encrypts; every key decrypts, so a key is rotated by putting the new key
first, running ``manage.py rotate_encryption_key`` (re-encrypts every stored secret), then dropping the old.
Only in development (DEBUG) with no key set is one derived from SECRET_KEY, so a production database
is never readable by whoever holds the (less guarded) secret key alone.

A decrypted value is a ``Secret``: its repr and str are masked, so it cannot leak into logs, tracebacks,
templates, forms or the admin by accident; code that truly needs the value calls ``reveal()``.
"""

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django import forms
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models
from django.db.models.query_utils import DeferredAttribute
from django.dispatch import receiver

MASK = "••••••••"


class Secret:
    """A secret value that does not show itself. ``reveal()`` is the one way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = str(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return format(MASK, spec)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        # Refuse pickling (cache, session, Celery arguments): a secret travels only as an id to reload.
        raise TypeError("A Secret cannot be pickled; pass the id of the record that holds it.")


def development_key(secret_key: str) -> bytes:
    return base64.urlsafe_b64encode(hashlib.sha256(b"field-encryption:" + secret_key.encode()).digest())


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    keys = list(getattr(settings, "FIELD_ENCRYPTION_KEYS", []))
    if not keys:
        if not settings.DEBUG:
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEY is required when DJANGO_DEBUG is off "
                "(generate one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key())')."
            )
        keys = [development_key(settings.SECRET_KEY)]
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be urlsafe base64 of 32 bytes (a Fernet key); several are comma-separated."
        ) from exc


@receiver(setting_changed)
def _forget_keys(*, setting, **kwargs):
    if setting in {"FIELD_ENCRYPTION_KEYS", "SECRET_KEY", "DEBUG"}:
        _fernet.cache_clear()


class DecryptionError(Exception):
    """A stored secret cannot be read with any configured key (wrong key, or the value was altered)."""


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionError("The stored secret cannot be decrypted with the configured keys.") from exc


def encrypted_fields() -> list[tuple[type[models.Model], "EncryptedTextField"]]:
    from django.apps import apps

    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]


def rotate_all() -> int:
    """Re-encrypt every stored secret with the current (first) key; returns how many were rewritten."""
    rewritten = 0
    for model, field in encrypted_fields():
        rows = model._base_manager.exclude(**{field.attname: ""}).exclude(**{f"{field.attname}__isnull": True})
        for pk, secret in rows.values_list("pk", field.attname).iterator():
            rewritten += model._base_manager.filter(pk=pk).update(**{field.attname: secret})
    return rewritten


class SecretInput(forms.PasswordInput):
    """A password box that never renders a value back into the page."""

    def __init__(self, attrs=None):
        super().__init__(attrs={"autocomplete": "off", **(attrs or {})}, render_value=False)


class SecretFormField(forms.CharField):
    widget = SecretInput

    def prepare_value(self, value):
        return ""  # whatever the initial data holds, the page gets nothing

    def clean(self, value):
        value = super().clean(value)
        return Secret(value) if value else ""


class SecretAttribute(DeferredAttribute):
    """Whatever is assigned (a plain string from a form or the shell) is held as a ``Secret`` at once."""

    def __set__(self, instance, value):
        if isinstance(value, str) and value:
            value = Secret(value)
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):
    """Text stored encrypted; read back as a ``Secret``. Leaving its form field blank keeps the stored value.

    Not editable by default, so the admin and ModelForms leave it alone; collect it with a dedicated form.
    Exclude it from history (``history(excluded_fields=[...])``): old ciphertexts are old secrets.
    """

    descriptor_class = SecretAttribute

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return Secret(decrypt(value))

    def to_python(self, value):
        if value is None or value == "" or isinstance(value, Secret):
            return value
        return Secret(value)

    def get_prep_value(self, value):
        value = super(models.TextField, self).get_prep_value(value)  # skip TextField's str() of the mask
        if value in (None, ""):
            return value
        plain = value.reveal() if isinstance(value, Secret) else str(value)
        return encrypt(plain) if plain else ""

    def value_to_string(self, obj):
        return ""  # serializers (dumpdata) never write the secret

    def value_from_object(self, obj):
        value = super().value_from_object(obj)
        return Secret(value) if isinstance(value, str) and value else value

    def save_form_data(self, instance, data):
        if data:
            setattr(instance, self.attname, data if isinstance(data, Secret) else Secret(data))

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": SecretFormField, "widget": SecretInput, **kwargs})
