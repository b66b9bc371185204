import pytest

from nursery import detectors


@pytest.mark.parametrize(
    "text", ["ring 07700 900123", "+44 7700 900123", "0113-496-0000", "tel:01134960000", "0044 7700900123"]
)
def test_it_finds_uk_phone_numbers(text):
    assert detectors.phone_numbers(text)


@pytest.mark.parametrize("text", ["born 2023", "room 12345", "£1,000,000 raised", "year 2026-11-25"])
def test_it_leaves_other_numbers_alone(text):
    assert not detectors.phone_numbers(text)


def test_it_finds_emails_and_postcodes():
    hits = detectors.personal_data("write to grace.okafor+home@mail.example.com, we live at ls6 2ab")
    assert [h.kind for h in hits] == ["email address", "postcode"]
    assert hits[0].text == "grace.okafor+home@mail.example.com"


def test_names_match_whole_words_only_and_any_case():
    hits = detectors.names_in("AMARA  Okafor sang; Amaranth did not", ["Amara Okafor", "Amara"])
    assert [h.text for h in hits] == ["AMARA  Okafor"]


def test_names_are_escaped_not_treated_as_patterns():
    assert detectors.names_in("O'Brien (Jr.) came", ["O'Brien (Jr.)"])[0].text == "O'Brien (Jr.)"
    assert detectors.names_in("anything", [".*"]) == []



@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("call the office on (0113) 496 0000 today", "(0113) 496 0000"),
        ("from abroad: +44 (0)7700 900123.", "+44 (0)7700 900123"),
        ("or 0044 (0) 113 496 0000", "0044 (0) 113 496 0000"),
    ],
)
def test_it_finds_uk_phone_numbers_written_with_brackets(text, number):
    assert [hit.text for hit in detectors.phone_numbers(text)] == [number]


@pytest.mark.parametrize("text", ["songs (1) and (2)", "steps 1) 2) 3) 4) 5) 6) 7) 8) 9) 10)", "(0) 12 cakes"])
def test_brackets_alone_do_not_make_a_phone_number(text):
    assert not detectors.phone_numbers(text)


def test_names_next_to_each_other_and_beyond_ascii_are_each_found():
    hits = detectors.names_in("Amara, amara.Amaras Zoë zoë! Zoës", ["Amara", "Zoë"])
    assert [(h.start, h.text) for h in hits] == [(0, "Amara"), (7, "amara"), (20, "Zoë"), (24, "zoë")]


def test_hundreds_of_names_on_the_longest_comment_stay_linear():
    import time

    names = [f"Child{i} Family{i}" for i in range(500)]
    text = ("Child1 Famil " * 700)[:8000]
    detectors.names_in(text, names)
    started = time.perf_counter()
    assert detectors.names_in(text, names) == []
    assert time.perf_counter() - started < 0.5
