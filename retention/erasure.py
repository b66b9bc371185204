"""What an erasure request can erase now, and what must be kept and why: one list, read and carried out.

Each ``Line`` is one kind of record about the person: how many there are, what happens to them
(``ERASE``, ``ANONYMISE`` or ``KEEP``) and why. The leadership page shows the lines; carrying the request
out does exactly what they say, inside ``retention.services`` (the one path allowed to remove records).
The reasons cite UK GDPR article 17(3): (b) a legal obligation, (e) legal claims.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from consent.models import ConsentDecision, ConsentRequest
from moderation.models import Action, Concern, ItemStatus
from nursery.models import STAFF_ROLES, Child, Guardianship, Membership, Notification, Nursery, Role
from people.models import Invitation
from retention.models import LegalHold, SubjectAccessRequest
from retention.services import schedule_for
from staff_conduct.models import OPEN_STATUSES, Acknowledgement, Incident

ERASE, ANONYMISE, KEEP = "erase", "anonymise", "keep"


@dataclass
class Line:
    key: str
    label: str
    count: int
    action: str
    reason: str
    rows: QuerySet | None = field(default=None, repr=False)

    def as_record(self) -> dict:
        return {"key": self.key, "label": self.label, "count": self.count, "action": self.action,
                "reason": self.reason}


def assess(nursery: Nursery, subject, now: datetime | None = None) -> list[Line]:
    """The lines for ``subject`` at ``nursery`` now. Lines with nothing in them are left out."""
    now = now or timezone.now()
    schedule = schedule_for(nursery)
    today = timezone.localdate(now)
    lines: list[Line] = []

    def line(key, label, rows, action, reason):
        count = rows.count()
        if count:
            lines.append(Line(key, label, count, action, reason, rows))

    line("notifications", "Notifications sent to them",
         Notification.objects.filter(nursery=nursery, recipient=subject), ERASE,
         "Copies of messages already delivered: no reason to keep them.")
    line("consent_requests", "Consent requests and reminders sent to them",
         ConsentRequest.objects.filter(nursery=nursery, recipient=subject), ERASE,
         "A record that a reminder was sent: no reason to keep it once they ask.")
    exports = SubjectAccessRequest.objects.filter(nursery=nursery, subject=subject)
    line("access_exports", "Subject access ZIP files about them",
         exports.filter(status=SubjectAccessRequest.Status.READY), ERASE,
         "A copy made for them; the request itself stays as the record that it was answered.")
    line("consent_decisions", "Photo consent decisions they made",
         ConsentDecision.objects.filter(nursery=nursery, guardian=subject), KEEP,
         "The evidence that each photo had a parent's consent (art. 17(3)(e), legal claims): removed by the "
         f"retention schedule {schedule.consent_years} years after the child leaves.")

    roles = set(Membership.objects.filter(user=subject, nursery=nursery).values_list("role", flat=True))
    on_roll = Child.objects.on_roll(today).filter(nursery=nursery)
    guardianships = Guardianship.objects.filter(user=subject, child__nursery=nursery)
    line("guardianships_left", "Parent or carer of children who have left",
         guardianships.exclude(child__in=on_roll), ERASE,
         "The children have left; their consent records keep what is needed as evidence.")
    line("guardianships_on_roll", "Parent or carer of children on roll", guardianships.filter(child__in=on_roll),
         KEEP, "Needed to run photo consent while the child attends: remove them as a carer first if that is right.")
    staff = roles & set(STAFF_ROLES)
    keeps_role = bool(staff) or guardianships.filter(child__in=on_roll).exists()
    line("acknowledgements", "Social media policies they acknowledged",
         Acknowledgement.objects.filter(nursery=nursery, user=subject), KEEP if keeps_role else ERASE,
         "They still hold a role here, and the policy must be acknowledged by everyone who does."
         if keeps_role else "They no longer hold a role here.")

    invitations = Invitation.objects.filter(nursery=nursery, user=subject)
    still_open = Q(accepted_at__isnull=True, revoked_at__isnull=True) & (
        Q(send_pending=True) | Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )
    line("invitations_open", "An invitation to them still open", invitations.filter(still_open), KEEP,
         "Still open: revoke it on the people page first.")
    line("invitations", "Invitations sent to them, answered or expired", invitations.exclude(still_open),
         KEEP if keeps_role else ERASE,
         "They still hold a role here: the invitation records who let them in." if keeps_role
         else "A record of how they were let in, no longer needed.")

    concerns = Concern.objects.filter(nursery=nursery, raised_by=subject)
    line("concerns_open", "Concerns and comment reports they raised, still open",
         concerns.exclude(moderation_item__status=ItemStatus.RESOLVED), KEEP,
         "Still being dealt with.")
    line("concerns_safeguarding", "Concerns they raised that were escalated as safeguarding",
         concerns.filter(moderation_item__status=ItemStatus.RESOLVED, moderation_item__action=Action.ESCALATE), KEEP,
         f"A safeguarding record (art. 17(3)(b)): kept {schedule.safeguarding_years} years by the schedule.")
    line("concerns_resolved", "Concerns and comment reports they raised, resolved",
         concerns.filter(moderation_item__status=ItemStatus.RESOLVED).exclude(moderation_item__action=Action.ESCALATE),
         KEEP, "The record of a complaint and its outcome that the EYFS framework requires (art. 17(3)(b)): "
               f"kept {schedule.concerns_years} years by the schedule.")

    incidents = Incident.objects.filter(nursery=nursery).filter(subject=subject) | Incident.objects.filter(
        nursery=nursery, reported_by=subject
    )
    line("incidents_open", "Conduct incidents about them or reported by them, still open",
         incidents.filter(status__in=OPEN_STATUSES), KEEP, "An open incident: still being investigated or decided.")
    line("incidents_closed", "Conduct incidents about them or reported by them, closed",
         incidents.exclude(status__in=OPEN_STATUSES), KEEP,
         f"An employment record that may be needed for a claim (art. 17(3)(e)): kept {schedule.incidents_years} "
         "years after closing by the schedule.")

    if not keeps_role:
        line("parent_role", "Parent access to this nursery",
             Membership.objects.filter(user=subject, nursery=nursery, role=Role.PARENT), ERASE,
             "They have no child on roll here.")
    if staff:
        lines.append(Line("roles", "Roles held as staff", len(staff), KEEP,
                          "They still work here: end their role first."))
    # After the erasure, does the account still serve any nursery? Only then is it anonymised.
    other_roles = Membership.objects.filter(user=subject).exclude(nursery=nursery).exists()
    lines.append(Line(
        "account", "Their account (name, username, email address, password)", 1,
        KEEP if (keeps_role or other_roles) else ANONYMISE,
        "They still hold a role here or at another nursery." if (keeps_role or other_roles)
        else "Name, username and email address replaced, password removed, sign-in disabled; the records kept "
             "above then no longer name them, except their own typed signatures in the consent ledger.",
    ))

    hold = LegalHold.objects.filter(nursery=nursery, person=subject, released_at__isnull=True).first()
    if hold is not None:
        for item in lines:
            if item.action != KEEP:
                item.action, item.reason = KEEP, f"A legal hold is on them: {hold.reason}"
    return lines
