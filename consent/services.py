from datetime import datetime

from django.db import transaction
from django.utils import timezone

from consent.models import ConsentDecision, ConsentWording, Decision, Method
from consent.signals import consent_withdrawn
from nursery.audit import acting_as
from nursery.errors import ServiceError
from nursery.models import Child, Guardianship


def _lock_child(child: Child) -> Child:
    # Withdrawals and the publishing gate lock the same child row, so one always sees the other.
    return Child.objects.select_for_update().select_related("nursery").get(pk=child.pk)


def _responsible_guardianship(user, child: Child) -> Guardianship:
    guardianship = Guardianship.objects.filter(user=user, child=child).first()
    if guardianship is None:
        raise ServiceError("You can only decide for children you are a parent or carer of.")
    if not guardianship.has_parental_responsibility:
        raise ServiceError(
            "Only a parent or carer with parental responsibility can give or withdraw photo consent."
        )
    return guardianship


def _current_wording(child: Child, scope: str) -> ConsentWording:
    wording = ConsentWording.objects.filter(nursery_id=child.nursery_id, scope=scope).order_by("-version").first()
    if wording is None:
        raise ServiceError("The nursery has not published the consent wording for this yet.")
    return wording


def grant_consent(
    user, *, child: Child, scope: str, wording_id: int, signature: str, ip_address: str | None = None,
    user_agent: str = "", now: datetime | None = None,
) -> ConsentDecision:
    """A guardian with parental responsibility agrees, online, to the wording they were shown."""
    now = now or timezone.now()
    signature = " ".join((signature or "").split())
    if len(signature) < 3 or not any(ch.isalpha() for ch in signature):
        raise ServiceError("Please type your full name as your signature.")
    with transaction.atomic(), acting_as(user, f"Granted {scope} photo consent online"):
        child = _lock_child(child)
        _responsible_guardianship(user, child)
        wording = _current_wording(child, scope)
        if wording.pk != wording_id:
            raise ServiceError(
                "The consent wording has changed since you opened this page. Please read the new wording."
            )
        latest = _latest_own_decision(user, child, scope)
        if latest is not None and latest.decision == Decision.GRANTED and latest.wording_id == wording.pk:
            raise ServiceError("You have already given this consent; nothing has changed.")
        return ConsentDecision.objects.create(
            nursery=child.nursery, child=child, scope=scope, decision=Decision.GRANTED, guardian=user,
            signature=signature[:200], wording=wording, decided_at=now, method=Method.ONLINE,
            ip_address=ip_address, user_agent=(user_agent or "")[:400],
        )


def withdraw_consent(
    user, *, child: Child, scope: str, ip_address: str | None = None, user_agent: str = "",
    now: datetime | None = None,
) -> ConsentDecision:
    """One step, no reason asked, effective at once; posts already out are taken down after commit."""
    now = now or timezone.now()
    with transaction.atomic(), acting_as(user, f"Withdrew {scope} photo consent online"):
        child = _lock_child(child)
        _responsible_guardianship(user, child)
        latest = _latest_own_decision(user, child, scope)
        if latest is not None and latest.decision == Decision.WITHDRAWN:
            raise ServiceError("You have already withdrawn this consent; nothing has changed.")
        decision = ConsentDecision.objects.create(
            nursery=child.nursery, child=child, scope=scope, decision=Decision.WITHDRAWN, guardian=user,
            signature="", wording=_current_wording(child, scope), decided_at=now, method=Method.ONLINE,
            ip_address=ip_address, user_agent=(user_agent or "")[:400],
        )
        announce_withdrawal(decision, withdrawn_by=user)
        return decision


def announce_withdrawal(decision: ConsentDecision, *, withdrawn_by) -> None:
    """Fire the withdrawal seam once, after the surrounding transaction commits."""
    transaction.on_commit(
        lambda: consent_withdrawn.send(
            sender=ConsentDecision, decision=decision, child_id=decision.child_id, scope=decision.scope,
            withdrawn_by=withdrawn_by,
        )
    )


def _latest_own_decision(user, child: Child, scope: str) -> ConsentDecision | None:
    own = ConsentDecision.objects.filter(child=child, scope=scope, guardian=user)
    return own.order_by("-decided_at", "-pk").first()
