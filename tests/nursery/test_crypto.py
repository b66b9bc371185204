"""Secrets at rest: encrypted with the environment's key, rotatable, and never shown once stored."""

import copy
import logging
import pickle

import pytest
from cryptography.fernet import Fernet
from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.test.utils import isolate_apps

from nursery import crypto
from nursery.crypto import MASK, EncryptedTextField, Secret

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


@pytest.fixture
def key_a(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]


def test_it_round_trips_and_never_stores_the_plain_text(key_a):
    token = crypto.encrypt("EAAB-page-token")
    assert "EAAB-page-token" not in token
    assert crypto.decrypt(token) == "EAAB-page-token"
    assert crypto.encrypt("EAAB-page-token") != token  # a fresh IV each time


def test_it_refuses_a_value_encrypted_with_another_key(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    token = crypto.encrypt("secret")
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)


def test_it_refuses_an_altered_value(key_a):
    token = crypto.encrypt("secret")
    altered = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(altered)


def test_a_rotated_key_still_reads_old_values_and_writes_with_the_new_one(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    old = crypto.encrypt("secret")
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    assert crypto.decrypt(old) == "secret"
    new = crypto.encrypt("secret")
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
    assert crypto.decrypt(new) == "secret"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(old)


def test_production_without_a_key_refuses_to_encrypt(settings):
    settings.FIELD_ENCRYPTION_KEYS = []
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEY is required"):
        crypto.encrypt("secret")


def test_development_derives_a_key_from_the_secret_key(settings):
    settings.FIELD_ENCRYPTION_KEYS = []
    settings.DEBUG = True
    token = crypto.encrypt("secret")
    assert Fernet(crypto.development_key(settings.SECRET_KEY)).decrypt(token.encode()) == b"secret"
    settings.SECRET_KEY = "another-development-key-entirely-0123456789-abcdefghijklmnopqrstuvwxyz"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)


def test_a_malformed_key_is_a_clear_configuration_error(settings):
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured, match="urlsafe base64 of 32 bytes"):
        crypto.encrypt("secret")


def test_a_secret_hides_itself_everywhere_it_could_be_printed(caplog):
    secret = Secret("EAAB-page-token")
    shown = [repr(secret), str(secret), f"{secret}", f"{secret!r}", repr({"token": secret})]
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("token is %s / %r", secret, secret)
    assert all("EAAB" not in text for text in shown + [caplog.text])
    assert str(secret) == MASK
    assert secret.reveal() == "EAAB-page-token"
    assert secret == Secret("EAAB-page-token") and secret != "EAAB-page-token"
    assert copy.deepcopy(secret) is secret


def test_a_secret_cannot_be_pickled_into_a_cache_or_a_task():
    with pytest.raises(TypeError):
        pickle.dumps(Secret("EAAB-page-token"))


@pytest.fixture
def vault_model():
    with isolate_apps("nursery"):

        class Vault(models.Model):
            token = EncryptedTextField()

            class Meta:
                app_label = "nursery"

            def __str__(self):
                return f"vault {self.pk}"

        yield Vault


def test_the_field_encrypts_on_the_way_to_the_database_and_decrypts_on_the_way_back(key_a, vault_model):
    field = vault_model._meta.get_field("token")
    stored = field.get_prep_value(Secret("EAAB-page-token"))
    assert "EAAB" not in stored
    assert crypto.decrypt(stored) == "EAAB-page-token"
    assert field.get_prep_value("plain-from-the-shell") != "plain-from-the-shell"
    loaded = field.from_db_value(stored, None, None)
    assert isinstance(loaded, Secret) and loaded.reveal() == "EAAB-page-token"
    assert field.get_prep_value("") == ""
    assert field.from_db_value("", None, None) == ""


def test_a_plain_string_assigned_becomes_a_secret_at_once(vault_model):
    vault = vault_model(token="EAAB-page-token")
    assert isinstance(vault.token, Secret)
    vault.token = "EAAB-another"
    assert isinstance(vault.token, Secret) and "EAAB" not in repr(vars(vault))


def test_the_field_stays_out_of_model_forms_and_serialisation(vault_model):
    field = vault_model._meta.get_field("token")
    assert field.editable is False
    assert "token" not in forms.modelform_factory(vault_model, fields="__all__")().fields
    assert field.value_to_string(vault_model(token="EAAB-page-token")) == ""


def test_a_form_field_never_renders_the_stored_value_and_blank_keeps_it(vault_model):
    field = vault_model._meta.get_field("token")
    form_field = field.formfield()
    html = form_field.widget.render("token", form_field.prepare_value(Secret("EAAB-page-token")))
    assert "EAAB" not in html and 'type="password"' in html and 'value=' not in html
    vault = vault_model(token="EAAB-page-token")
    field.save_form_data(vault, "")
    assert vault.token.reveal() == "EAAB-page-token"
    field.save_form_data(vault, form_field.clean("EAAB-new"))
    assert vault.token.reveal() == "EAAB-new"
