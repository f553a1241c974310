"""The second factor: who must use one, enrolment, recovery codes, reset, and the guard.

TOTP (RFC 6238) and single-use recovery codes come from django-otp. Admins and prescribers
always need a second factor; each clinic may require it of its other roles too
(`Clinic.mfa_roles`). A user who needs one and has not passed it this session reaches only
the enrolment or verification page. API bearer tokens are issued only to a user who has
enrolled when their role needs it, and stop working while they have not
(`ketacare.accounts.second_factor`). Every enrolment, success, failure and reset is written
to the audit trail.
"""

import base64
from collections.abc import Callable
from dataclasses import dataclass

import django_otp
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketacare.accounts.access import Actor, client_address
from ketacare.accounts.models import Membership, User
from ketacare.accounts.second_factor import ALWAYS_REQUIRED as ALWAYS_REQUIRED
from ketacare.accounts.second_factor import confirmed_totp as confirmed_totp
from ketacare.accounts.second_factor import mfa_required
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record

RECOVERY_CODES = 10
PASSED_SESSION_KEY = "ketacare_second_factor_for"
# Pages a user who still owes the second factor may reach.
EXEMPT_PREFIXES = ("/mfa/", "/login/", "/logout/", "/static/", "/healthz", "/portal/", "/api/")


def _audit(
    request: HttpRequest, user: User, action: AuditAction, event: str, **detail: object
) -> None:
    actor: Actor | None = getattr(request, "actor", None)
    audit_record(
        actor=actor if actor is not None and actor.user.pk == user.pk else None,
        action=action,
        object_type="user",
        object_id=user.pk,
        username=user.username,
        clinic_id=actor.clinic_id if actor is not None else None,
        client_address=client_address(request),
        detail={"event": event, **detail},
    )


def totp_device_for_enrolment(user: User) -> TOTPDevice:
    """The unconfirmed authenticator being enrolled (a new secret each time one is started)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Enrolment:
    """A confirmed authenticator and the recovery codes shown once."""

    device: TOTPDevice
    recovery_codes: list[str]


@transaction.atomic
def mfa_enrol_confirm(*, request: HttpRequest, user: User, token: str) -> Enrolment | None:
    """Confirm the authenticator with its first code; issue fresh recovery codes; audited."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None or not device.verify_token(token.strip()):
        _audit(request, user, AuditAction.LOGIN_FAILED, "mfa_enrol_failed", factor="totp")
        return None
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save()
    codes = recovery_codes_issue(user=user)
    django_otp.login(request, device)  # type: ignore[no-untyped-call]
    request.session[PASSED_SESSION_KEY] = user.pk
    _audit(request, user, AuditAction.MFA, "enrolled", recovery_codes=len(codes))
    return Enrolment(device=device, recovery_codes=codes)


def recovery_codes_issue(*, user: User) -> list[str]:
    """Replace the user's recovery codes with new single-use ones; returns them (shown once)."""
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]  # type: ignore[no-untyped-call]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=code) for code in codes])
    return codes


def mfa_verify(*, request: HttpRequest, user: User, token: str) -> bool:
    """Check a TOTP or recovery code for this session; audited either way."""
    device = django_otp.match_token(user, token.strip().replace(" ", ""))  # type: ignore[no-untyped-call]
    if device is None:
        _audit(request, user, AuditAction.LOGIN_FAILED, "mfa_failed", factor="second factor")
        return False
    django_otp.login(request, device)  # type: ignore[no-untyped-call]
    request.session[PASSED_SESSION_KEY] = user.pk
    factor = "recovery code" if isinstance(device, StaticDevice) else "totp"
    _audit(request, user, AuditAction.LOGIN, "mfa_passed", factor=factor)
    return True


@transaction.atomic
def mfa_reset(*, actor: Actor, membership: Membership) -> None:
    """An admin removes a member's second factor; they enrol again at their next sign-in."""
    user = membership.user
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit_record(
        actor=actor,
        action=AuditAction.MFA,
        object_type="user",
        object_id=user.pk,
        detail={"event": "reset", "user": user.username},
    )


def safe_next(request: HttpRequest, fallback: str = "home") -> str:
    """The `next` the user was going to, if it is on this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse(fallback)


class SecondFactorMiddleware:
    """Send a signed-in user who owes a second factor to verification or enrolment."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is None
            or not user.is_authenticated
            or request.session.get(PASSED_SESSION_KEY) == user.pk
            or request.path.startswith(EXEMPT_PREFIXES)
        ):
            return self.get_response(request)
        if not mfa_required(user):
            request.session[PASSED_SESSION_KEY] = user.pk
            return self.get_response(request)
        if user.is_verified():
            request.session[PASSED_SESSION_KEY] = user.pk
            return self.get_response(request)
        step = "mfa_verify" if confirmed_totp(user) else "mfa_enrol"
        target = f"{reverse(step)}?next={request.get_full_path()}"
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=200)
            response["HX-Redirect"] = target
            return response
        return HttpResponseRedirect(target)


def demo_authenticator(user: User) -> str:
    """A demo user's confirmed authenticator key (base32), made once with a random secret."""
    device = confirmed_totp(user)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Demo authenticator", confirmed=True)
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def current_code(user: User) -> str | None:
    """The code the user's authenticator shows now (demo and operator use only)."""
    device = confirmed_totp(user)
    if device is None:
        return None
    from django_otp.oath import totp

    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"  # type: ignore[no-untyped-call]
