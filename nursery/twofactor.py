"""Two-factor sign-in (django-otp): who needs it, enrolment, recovery codes, and a reset by someone else.

Everyone who can read safeguarding records signs in with a password and a code from an authenticator app
(TOTP, RFC 6238): the leadership team (the whistleblowing officer is one of them), the safeguarding lead and
superusers (the admin). A lost phone is answered by one of ten single-use recovery codes, or by another
leader of the nursery or a superuser resetting it, which is audited, tells the person, and ends their
sessions. ``REQUIRE_TWO_FACTOR`` switches the requirement (on by default when ``DJANGO_DEBUG`` is off).
"""

import base64
import secrets

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from nursery.audit import acting_as
from nursery.errors import ServiceError
from nursery.models import Membership, Role
from nursery.permissions import has_role

TWO_FACTOR_ROLES = (Role.LEADERSHIP, Role.SAFEGUARDING_LEAD)
RECOVERY_CODES = 10
APP_DEVICE = "Authenticator app"
RECOVERY_DEVICE = "Recovery codes"


def needs_two_factor(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_superuser or Membership.objects.filter(user=user, role__in=TWO_FACTOR_ROLES).exists()


def required_for(user) -> bool:
    return settings.REQUIRE_TWO_FACTOR and needs_two_factor(user)


def has_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_device(user) -> TOTPDevice:
    """The authenticator being set up: one unconfirmed device, kept across page loads until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=APP_DEVICE, confirmed=False)


def secret_text(device: TOTPDevice) -> str:
    """The secret as an authenticator app asks for it when typed in (base32, in groups of four)."""
    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The ``otpauth://`` address as an SVG QR code (markup only: no script, no inline style)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")


def confirm_device(user, *, device: TOTPDevice, token: str) -> list[str]:
    """The first code from the app proves it is set up: the device is confirmed, recovery codes issued."""
    if device.user_id != user.pk or device.confirmed:
        raise ServiceError("Start setting up your authenticator again.")
    if not device.verify_token(_digits(token)):
        raise ServiceError("That code is not right. Check the time on your phone and type the newest code.")
    with transaction.atomic(), acting_as(user, "Set up two-factor sign-in"):
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save()
        return new_recovery_codes(user)


def new_recovery_codes(user) -> list[str]:
    """Ten fresh single-use codes; any earlier ones stop working. Shown once, stored only as django-otp does."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE, confirmed=True)
        codes = [f"{secrets.randbelow(10**8):08d}" for _ in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def verify(user, token: str):
    """The device that accepts ``token`` (the app's code or an unused recovery code), or None.

    django-otp throttles each device: after a wrong code it refuses for 1, 2, 4 ... seconds, so guessing
    six digits online is hopeless; a recovery code is used up when it works.
    """
    token = _digits(token)
    for model in (TOTPDevice, StaticDevice):
        for device in model.objects.filter(user=user, confirmed=True):
            allowed, _ = device.verify_is_allowed()
            if allowed and device.verify_token(token):
                return device
    return None


def reset_two_factor(actor, *, user, reason: str) -> None:
    """Someone lost their phone: another leader of a nursery they work in, or a superuser, removes their devices.

    Audited (who, whom, why), the person is told, and every session of theirs ends: whoever holds the lost
    phone and a session gains nothing. They set up a new authenticator at their next sign-in.
    """
    from nursery.services import notify

    reason = " ".join((reason or "").split())
    if not reason:
        raise ServiceError("Say why the two-factor sign-in is being reset.")
    if actor.pk == user.pk:
        raise ServiceError("Another leader or the administrator resets your two-factor sign-in, not you.")
    shared = Membership.objects.filter(user=user).values_list("nursery_id", flat=True)
    if not actor.is_superuser and not any(has_role(actor, nursery_id, Role.LEADERSHIP) for nursery_id in shared):
        raise ServiceError("Only a leader of their nursery or the administrator can reset this.")
    with transaction.atomic(), acting_as(actor, f"Reset two-factor sign-in of {user.username}: {reason}"):
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        end_sessions(user)
        # On the person's own record in the admin ("History"): who reset it, when and why.
        LogEntry.objects.log_actions(actor.pk, get_user_model().objects.filter(pk=user.pk), CHANGE,
                                     f"Reset two-factor sign-in: {reason}", single_object=True)
        notify([user], "Your two-factor sign-in was reset", "nursery/email/message.txt", {
            "message": f"{actor.get_full_name() or actor.username} reset your two-factor sign-in on "
                       f"{timezone.localtime():%d %b %Y at %H:%M} ({reason}). You were signed out everywhere; "
                       "at your next sign-in you will set up your authenticator app again. If you did not ask "
                       "for this, tell the nursery manager at once."})


def end_sessions(user, *, keep: str | None = None) -> int:
    """End every session of ``user`` except ``keep`` (a session key)."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.session_key != keep and str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
            ended += 1
    return ended


# The demo's one authenticator key (RFC 6238's test key, base32), for the demo data only (seed_demo).
DEMO_TOTP_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
DEMO_DEVICE = "Demo authenticator"


def enrol_demo(users) -> list[str]:
    """Give each demo user who needs it the demo authenticator (idempotent); their usernames."""
    key = base64.b32decode(DEMO_TOTP_SECRET).hex()
    enrolled = []
    for user in users:
        if needs_two_factor(user):
            TOTPDevice.objects.get_or_create(user=user, name=DEMO_DEVICE, defaults={"key": key, "confirmed": True})
            enrolled.append(user.username)
    return enrolled


def demo_code() -> str:
    """The demo authenticator's current code (what an app holding ``DEMO_TOTP_SECRET`` shows now)."""
    from django_otp.oath import TOTP

    return f"{TOTP(base64.b32decode(DEMO_TOTP_SECRET)).token():06d}"


def _digits(token: str) -> str:
    return "".join((token or "").split()).replace("-", "")
