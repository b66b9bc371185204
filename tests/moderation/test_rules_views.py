"""Screening rules pages: leadership and the safeguarding lead keep the rules; unsafe patterns are refused."""

from moderation.models import ScreeningRule


def test_the_rules_page_lists_the_default_rules(world, client):
    client.force_login(world.dsl)
    page = client.get("/moderation/rules/").content.decode()
    assert "Children&#x27;s full names" in page and "Friend requests and private messages" in page


def test_a_word_list_rule_is_added_from_the_page(world, client):
    client.force_login(world.leader)
    response = client.post("/moderation/rules/new/", {
        "name": "Other apps", "kind": "words", "category": "private_contact", "severity": 3,
        "words": "tiktok\nsnapchat me", "active": "on",
    })
    assert response.status_code == 302
    rule = ScreeningRule.objects.get(name="Other apps")
    assert (rule.nursery, rule.created_by, rule.severity) == (world.nursery, world.leader, 3)
    assert rule.history.first().history_user == world.leader


def test_a_pattern_re2_cannot_run_gets_a_field_error_and_is_not_saved(world, client):
    client.force_login(world.dsl)
    response = client.post("/moderation/rules/new/", {
        "name": "Evil", "kind": "regex", "category": "sharing", "severity": 2, "pattern": r"(\w+)\s\1",
    })
    assert response.status_code == 200
    assert "cannot use back-references" in response.content.decode()
    assert not ScreeningRule.objects.filter(name="Evil").exists()


def test_an_invalid_pattern_and_a_duplicate_name_are_refused(world, client):
    client.force_login(world.dsl)
    page = client.post("/moderation/rules/new/", {"name": "Phone numbers", "kind": "regex", "category": "sharing",
                                                   "severity": 2, "pattern": "(unclosed"}).content.decode()
    assert "not a valid regular expression" in page and "Another rule already has this name" in page


def test_a_rule_is_switched_off_from_its_page(world, client):
    rule = ScreeningRule.objects.get(nursery=world.nursery, name="Postcodes")
    client.force_login(world.dsl)
    response = client.post(f"/moderation/rules/{rule.pk}/", {
        "name": rule.name, "kind": rule.kind, "category": rule.category, "severity": rule.severity,
        "detector": rule.detector,
    })
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.active is False


def test_another_nurserys_rule_is_a_404(world, client):
    rule = ScreeningRule.objects.filter(nursery=world.other_nursery).first()
    client.force_login(world.dsl)
    assert client.get(f"/moderation/rules/{rule.pk}/").status_code == 404


def test_missing_defaults_are_restored(world, client):
    ScreeningRule.objects.filter(nursery=world.nursery, name="Postcodes").delete()
    client.force_login(world.dsl)
    response = client.post("/moderation/rules/defaults/", follow=True)
    assert "1 default rule added." in response.content.decode()
