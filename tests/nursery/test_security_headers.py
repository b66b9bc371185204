"""Every HTML page carries an enforced Content-Security-Policy, and no template needs it relaxed."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Rendered to a PDF by xhtml2pdf inside the worker, never served as a page.
NOT_SERVED = {"inspection/pack/pdf.html"}
INLINE = [
    (re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"<style\b", re.I), "a <style> element"),
    (re.compile(r"\sstyle=", re.I), "a style= attribute"),
    (re.compile(r"\son[a-z]+=", re.I), "an inline event handler"),
    (re.compile(r"javascript:", re.I), "a javascript: address"),
]


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("actor", ["anonymous", "parent", "practitioner", "leader"])
def test_every_page_has_an_enforced_policy_without_inline_code(client, world, actor):
    if actor != "anonymous":
        client.force_login(world.actor(actor))
    response = client.get(reverse("home") if actor != "anonymous" else reverse("login"))
    assert response.status_code == 200
    policy = directives(response)
    assert "Content-Security-Policy-Report-Only" not in response
    assert policy["script-src"] == "script-src 'self'" and policy["style-src"] == "style-src 'self'"
    assert policy["frame-ancestors"] == "frame-ancestors 'none'" and policy["object-src"] == "object-src 'none'"
    assert "unsafe" not in response["Content-Security-Policy"]
    assert response["Permissions-Policy"].startswith("camera=()")
    assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin" and response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_admin_has_the_policy_too(admin_client):
    assert "script-src 'self'" in admin_client.get(reverse("admin:index"))["Content-Security-Policy"]


def test_uploaded_files_keep_their_own_sandbox(client, world):
    from tests.consent.factories import paper_decision

    decision = paper_decision(world.child, world.parent, world.leader)
    client.force_login(world.leader)
    response = client.get(reverse("consent:scan", args=[decision.pk]))
    assert response["Content-Security-Policy"].startswith("sandbox")


def test_no_template_has_inline_script_or_style():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        if name in NOT_SERVED:
            continue
        text = path.read_text()
        found += [f"{name}: {what}" for pattern, what in INLINE if pattern.search(text)]
    assert not found, "the policy would refuse these; use static/js and static/css:\n" + "\n".join(found)
