"""A typed signature is the signer's own name, compared as people type it."""

import pytest

from tests.factories import UserFactory


@pytest.fixture
def grace(db):
    return UserFactory(first_name="Grace Adaeze", last_name="Okafor-Bell")


@pytest.mark.parametrize("typed", [
    "Grace Okafor-Bell", "grace okafor-bell", "GRACE OKAFOR BELL", "  Grace   Okafor-Bell ", "Gráce Ökafor-Bell",
    "Grace Adaeze Okafor-Bell", "Grace A. Okafor-Bell", "Grace Ngozi Okafor-Bell",
])
def test_case_accents_spacing_and_middle_names_are_tolerated(grace, typed):
    from nursery.signatures import signs_for

    assert signs_for(typed, grace)


@pytest.mark.parametrize("typed", ["Mickey Mouse", "Grace", "Okafor-Bell", "Adaeze Okafor-Bell", "Grace Okafor",
                                   "Grace Bell", "Okafor-Bell Grace", "G Okafor-Bell"])
def test_another_name_does_not_sign(grace, typed):
    from nursery.signatures import signs_for

    assert not signs_for(typed, grace)


def test_apostrophes_do_not_matter(db):
    from nursery.signatures import signs_for

    assert signs_for("Siobhan OBrien", UserFactory(first_name="Siobhán", last_name="O’Brien"))


def test_nobody_signs_for_a_person_without_a_name_on_record(db):
    from nursery.signatures import signs_for

    assert not signs_for("Anyone At All", UserFactory(first_name="", last_name=""))
