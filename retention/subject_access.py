"""The ZIP that answers a subject access request: the personal data held about one person, readable.

Each section is a JSON file (plus the files it refers to) and README.txt says what each holds and what
is left out and why. Only this nursery's records: another nursery in the same deployment is another
controller. Other people's personal data is left out: for a parent's children's consent records, the
decisions of other carers show only their relationship, not their name, signature, address or browser.
"""

import hashlib
import io
import json
import zipfile
from datetime import date, datetime

from django.core.files.base import File

from consent.models import ConsentDecision, ConsentRequest
from moderation.models import Concern
from nursery.models import Guardianship, Membership, Notification, Nursery
from people.models import Invitation
from staff_conduct.models import Acknowledgement

README = """Personal data held by {nursery} about {name}
Produced on {built} for the subject access request received on {received}.

account.json          your account: names, username, email address, when it was made, last sign-in
memberships.json      your roles at {nursery}
guardianships.json    the children you are recorded as a parent or carer of, and parental responsibility
consent_decisions.json  every photo consent decision you made, with the exact wording you agreed to,
                      how it was given (online: address and browser; paper: the scan, under scans/)
children_consent.json for each of your children, every consent decision recorded about them; decisions
                      made by another carer show their relationship only (their details are theirs)
consent_requests.json the consent requests and reminders sent to you
notifications.json    the messages this service sent you (in the app and by email)
concerns.json         concerns and comment reports you raised, with screenshots under screenshots/,
                      and whether they were dealt with
acknowledgements.json the social media policies you acknowledged, when and with what signature
invitations.json      the invitations to this service sent to you, and what became of them

Not included: records about other people; conduct incident records (leadership provide what you are
entitled to from those separately, because they may identify a confidential reporter).
"""


def _when(value) -> str | None:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _dump(rows) -> bytes:
    return json.dumps(rows, indent=2, ensure_ascii=False, default=_when).encode()


def build_zip(*, nursery: Nursery, subject, received_on: date, built_at: datetime) -> File:
    """Write the ZIP to memory and return it as a File (the caller saves it to private storage)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        def add(name: str, rows) -> None:
            archive.writestr(name, _dump(rows))

        def attach(folder: str, field) -> str | None:
            if not field:
                return None
            name = f"{folder}/{field.name.rsplit('/', 1)[-1]}"
            with field.open("rb") as handle:
                archive.writestr(name, handle.read())
            return name

        archive.writestr("README.txt", README.format(
            nursery=nursery.name, name=subject.get_full_name() or subject.username, built=built_at.isoformat(),
            received=received_on.isoformat(),
        ))
        add("account.json", {
            "username": subject.username, "first_name": subject.first_name, "last_name": subject.last_name,
            "email": subject.email, "date_joined": subject.date_joined, "last_login": subject.last_login,
            "active": subject.is_active,
        })
        add("memberships.json", [
            {"nursery": nursery.name, "role": m.get_role_display()}
            for m in Membership.objects.filter(user=subject, nursery=nursery)
        ])
        guardianships = list(
            Guardianship.objects.filter(user=subject, child__nursery=nursery).select_related("child")
        )
        add("guardianships.json", [
            {"child": g.child.full_name, "relationship": g.relationship,
             "parental_responsibility": g.has_parental_responsibility}
            for g in guardianships
        ])
        mine = ConsentDecision.objects.filter(nursery=nursery, guardian=subject).select_related(
            "child", "wording", "recorded_by"
        ).order_by("decided_at", "id")
        add("consent_decisions.json", [
            {"child": d.child.full_name, "scope": d.get_scope_display(), "decision": d.get_decision_display(),
             "decided_at": d.decided_at, "recorded_at": d.recorded_at, "signature": d.signature,
             "wording_version": d.wording.version, "wording": d.wording.text, "method": d.get_method_display(),
             "ip_address": d.ip_address, "browser": d.user_agent,
             "entered_by": d.recorded_by.get_full_name() if d.recorded_by else None,
             "scan": attach("scans", d.paper_scan)}
            for d in mine
        ])
        relationships = {
            (g.child_id, g.user_id): g.relationship
            for g in Guardianship.objects.filter(child__in=[g.child_id for g in guardianships])
        }
        children = ConsentDecision.objects.filter(
            nursery=nursery, child__in=[g.child_id for g in guardianships]
        ).select_related("child", "wording").order_by("child_id", "decided_at", "id")
        add("children_consent.json", [
            {"child": d.child.full_name, "scope": d.get_scope_display(), "decision": d.get_decision_display(),
             "decided_at": d.decided_at, "wording_version": d.wording.version, "wording": d.wording.text,
             "method": d.get_method_display(),
             "decided_by": "you" if d.guardian_id == subject.pk
             else f"another carer ({relationships.get((d.child_id, d.guardian_id), 'no longer recorded')})"}
            for d in children
        ])
        add("consent_requests.json", [
            {"child": r.child.full_name, "scope": r.get_scope_display(), "kind": r.get_kind_display(),
             "round": r.round, "sent_at": r.sent_at}
            for r in ConsentRequest.objects.filter(nursery=nursery, recipient=subject).select_related("child")
        ])
        add("notifications.json", [
            {"subject": n.subject, "message": n.body, "sent_at": n.created_at, "read_at": n.read_at,
             "emailed_at": n.emailed_at}
            for n in Notification.objects.filter(recipient=subject, nursery=nursery).order_by("created_at", "id")
        ])
        concerns = Concern.objects.filter(nursery=nursery, raised_by=subject).select_related("moderation_item")
        add("concerns.json", [
            {"raised_at": c.raised_at, "as": c.get_reporter_display(), "where_seen": c.where_seen, "link": c.link,
             "description": c.description, "screenshot": attach("screenshots", c.screenshot),
             "status": _concern_status(c)}
            for c in concerns.order_by("raised_at", "id")
        ])
        add("acknowledgements.json", [
            {"policy": a.version.document.title, "version": a.version.version, "signature": a.signature,
             "acknowledged_at": a.acknowledged_at, "ip_address": a.ip_address, "browser": a.user_agent}
            for a in Acknowledgement.objects.filter(nursery=nursery, user=subject).select_related("version__document")
        ])
        add("invitations.json", [
            {"email": i.email, "role": i.get_role_display(), "created_at": i.created_at, "sent_at": i.sent_at,
             "expires_at": i.expires_at, "accepted_at": i.accepted_at, "revoked_at": i.revoked_at}
            for i in Invitation.objects.filter(nursery=nursery, user=subject)
        ])
    content = buffer.getvalue()
    upload = File(io.BytesIO(content), name="export.zip")
    upload.sha256 = hashlib.sha256(content).hexdigest()
    return upload


def _concern_status(concern: Concern) -> str:
    item = getattr(concern, "moderation_item", None)
    if item is None or item.status in ("pending", "reopened"):
        return "Received"
    return "Dealt with" if item.status == "resolved" else "Being looked at"
