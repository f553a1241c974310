"""Sign-in, sign-out, choosing a clinic, and the staff home page."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ketacare.accounts.access import actor_for, client_address, memberships_for
from ketacare.accounts.middleware import ACTIVE_CLINIC_SESSION_KEY
from ketacare.accounts.models import User
from ketacare.accounts.permissions import Permission
from ketacare.accounts.reauth import signing_pin_set
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.errors import Refused
from ketacare.web.access import actor_of, clinic_view
from ketacare.web.forms import refusal_to_form


class LoginView(auth_views.LoginView):
    """Django's sign-in, with the event written to the clinic's audit trail."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        actor = actor_for(
            user=form.get_user(),
            clinic_id=None,
            address=client_address(self.request),
            channel="web",
        )
        audit_record(
            actor=actor,
            action=AuditAction.LOGIN,
            object_type="user",
            object_id=form.get_user().pk,
            username=form.get_user().username,
            client_address=client_address(self.request),
        )
        return response

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        username = str(form.data.get("username", ""))[:150]
        user = User.objects.filter(username=username).first()
        membership = memberships_for(user)[0] if user and memberships_for(user) else None
        audit_record(
            actor=None,
            action=AuditAction.LOGIN_FAILED,
            object_type="user",
            object_id=user.pk if user else "",
            username=username,
            clinic_id=membership.clinic_id if membership else None,
            client_address=client_address(self.request),
            detail={"event": "password_failed", "known_user": user is not None},
        )
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    """Sign out (POST only), recording it."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        actor = getattr(request, "actor", None)
        if actor is not None:
            audit_record(
                actor=actor, action=AuditAction.LOGOUT, object_type="user", object_id=actor.user.pk
            )
        return super().post(request, *args, **kwargs)


@clinic_view(Permission.PATIENT_LIST)
def home(request: HttpRequest) -> HttpResponse:
    """The staff home page: where to go next for this role."""
    return render(
        request, "web/home.html", {"memberships": memberships_for(actor_of(request).user)}
    )


@require_POST
def switch_clinic(request: HttpRequest) -> HttpResponse:
    """Make another of the user's clinics the active one."""
    if not request.user.is_authenticated:
        return redirect("login")
    try:
        clinic_id = int(request.POST.get("clinic_id", ""))
    except ValueError:
        raise PermissionDenied("Choose one of your clinics.") from None
    allowed = {m.clinic_id for m in memberships_for(request.user)}
    if clinic_id not in allowed:
        raise PermissionDenied("You are not a member of that clinic.")
    request.session[ACTIVE_CLINIC_SESSION_KEY] = clinic_id
    return HttpResponseRedirect(reverse("home"))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403 page that says what was refused."""
    message = str(exception) if exception else "You are not allowed to do that."
    return render(request, "403.html", {"message": message}, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 page; a record of another clinic lands here too."""
    return render(request, "404.html", {}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """500 page: plain, self-contained (no context processors that might fail again)."""
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=500)


class SigningPinForm(forms.Form):
    """Set a signing PIN: the current password authorises it."""

    password = forms.CharField(
        label="Your current password", widget=forms.PasswordInput(attrs={"autocomplete": "off"})
    )
    pin = forms.CharField(
        label="New signing PIN (4 to 8 digits)",
        max_length=8,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


@clinic_view(Permission.PATIENT_LIST)
def signing_pin(request: HttpRequest) -> HttpResponse:
    """Set or change the short PIN that signs orders, verifications, screenings and discharges."""
    form = SigningPinForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            signing_pin_set(
                actor=actor_of(request),
                password=form.cleaned_data["password"],
                pin=form.cleaned_data["pin"],
            )
        except Refused as refusal:
            status = refusal_to_form(form, refusal)
        else:
            messages.success(request, "Your signing PIN is set.")
            return redirect("home")
    return render(request, "web/signing_pin.html", {"form": form}, status=status)
