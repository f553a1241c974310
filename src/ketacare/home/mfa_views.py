"""Second-factor pages (enrol, verify), the staff page for admins, and the lockout answer."""

import base64
from typing import Any

import segno
from django import forms
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketacare.accounts.access import client_address
from ketacare.accounts.models import Membership, User
from ketacare.accounts.permissions import Permission
from ketacare.accounts.roles import Role
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.home.mfa import (
    ALWAYS_REQUIRED,
    confirmed_totp,
    mfa_enrol_confirm,
    mfa_reset,
    mfa_verify,
    safe_next,
    totp_device_for_enrolment,
)
from ketacare.kernel.bounds import BoundedForm
from ketacare.web.access import actor_of, clinic_view


class CodeForm(BoundedForm):
    """A six-digit authenticator code or a recovery code."""

    code = forms.CharField(label="Code", max_length=20, strip=True)


def _signed_in(request: HttpRequest) -> User | None:
    user = request.user
    return user if user.is_authenticated else None


def mfa_enrol(request: HttpRequest) -> HttpResponse:
    """Add an authenticator: scan the code, type its first code, keep the recovery codes."""
    user = _signed_in(request)
    if user is None:
        return redirect("login")
    device = totp_device_for_enrolment(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        enrolment = mfa_enrol_confirm(request=request, user=user, token=form.cleaned_data["code"])
        if enrolment is not None:
            return render(
                request,
                "registration/mfa_codes.html",
                {"codes": enrolment.recovery_codes, "next": safe_next(request), "actor": None},
            )
        form.add_error("code", "That code did not match; check the time on your phone.")
    base32 = base64.b32encode(device.bin_key).decode().rstrip("=")
    qr = segno.make(device.config_url, error="m").svg_inline(scale=4, title="Authenticator code")
    return render(
        request,
        "registration/mfa_enrol.html",
        {
            "form": form,
            "secret": " ".join(base32[i : i + 4] for i in range(0, len(base32), 4)),
            # segno's SVG of the otpauth URL: no user-supplied markup in it.
            "qr_svg": mark_safe(qr),  # noqa: S308
            "next": safe_next(request),
            "actor": None,  # no navigation or polling until the second factor is passed
        },
        status=422 if form.errors else 200,
    )


def mfa_verify_view(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: an authenticator code or one recovery code."""
    user = _signed_in(request)
    if user is None:
        return redirect("login")
    if confirmed_totp(user) is None:
        return HttpResponseRedirect(f"{reverse('mfa_enrol')}?next={safe_next(request)}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if mfa_verify(request=request, user=user, token=form.cleaned_data["code"]):
            return HttpResponseRedirect(safe_next(request))
        form.add_error("code", "That code did not match.")
    return render(
        request,
        "registration/mfa_verify.html",
        {"form": form, "next": safe_next(request), "actor": None},
        status=422 if form.errors else 200,
    )


class MfaRolesForm(BoundedForm):
    """Which roles besides admin and prescriber must use a second factor in this clinic."""

    roles = forms.MultipleChoiceField(
        choices=[(r.value, r.label) for r in Role if r not in ALWAYS_REQUIRED],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Also require a second factor of",
    )


@clinic_view(Permission.CLINIC_MANAGE)
def staff_list(request: HttpRequest) -> HttpResponse:
    """The clinic's staff with their second-factor state; set which roles must use one."""
    actor = actor_of(request)
    clinic = actor.clinic
    form = MfaRolesForm(request.POST or None, initial={"roles": clinic.mfa_roles})
    if request.method == "POST" and form.is_valid():
        clinic.mfa_roles = sorted(form.cleaned_data["roles"])
        clinic.save(update_fields=["mfa_roles"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="clinic",
            object_id=clinic.pk,
            detail={"mfa_roles": clinic.mfa_roles},
        )
        return redirect("staff_list")
    members = list(
        Membership.objects.filter(clinic=clinic).select_related("user").order_by("user__username")
    )
    enrolled = set(
        TOTPDevice.objects.filter(user__in=[m.user for m in members], confirmed=True).values_list(
            "user_id", flat=True
        )
    )
    rows = [
        {
            "membership": m,
            "enrolled": m.user_id in enrolled,
            "required": m.role in ALWAYS_REQUIRED or m.role in clinic.mfa_roles,
        }
        for m in members
    ]
    return render(request, "registration/staff.html", {"rows": rows, "form": form})


@clinic_view(Permission.CLINIC_MANAGE)
@require_POST
def staff_mfa_reset(request: HttpRequest, membership_id: int) -> HttpResponse:
    """Remove a member's second factor (lost phone); they enrol again at next sign-in."""
    actor = actor_of(request)
    membership = get_object_or_404(Membership, pk=membership_id, clinic_id=actor.clinic_id)
    mfa_reset(actor=actor, membership=membership)
    return redirect("staff_list")


def locked_out(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """django-axes' answer to a locked username/address pair, written to the audit trail."""
    username = str((credentials or {}).get("username") or request.POST.get("username", ""))[:150]
    user = User.objects.filter(username=username).first()
    membership = Membership.objects.filter(user=user).first() if user else None
    audit_record(
        actor=None,
        action=AuditAction.LOCKED_OUT,
        object_type="user",
        object_id=user.pk if user else "",
        username=username,
        clinic_id=membership.clinic_id if membership else None,
        client_address=client_address(request),
        detail={"event": "locked_out"},
    )
    if request.user.is_authenticated:
        logout(request)
    return render(request, "registration/locked_out.html", status=429)
