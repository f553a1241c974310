"""Re-authentication for signing: the user's password, or a short signing PIN, again.

Signing a screening, a dose order, its verification or a discharge asks the signer to prove,
at that moment, that they are the signed-in user (a shared chair-side tablet left signed in
must not sign for its last user). The proof travels with the request: a `signing_secret` form
field on pages, an `X-KetaCare-Reauth` header on the API. A correct one stamps the request's
`Actor` with `reauthenticated_at`; the signing services refuse (`reauth_required`) without a
stamp from this request. Five wrong secrets in a row lock signing for 15 minutes
(`reauth_locked`), whatever is typed next.
"""

import dataclasses
import re
from datetime import timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone

from ketacare.accounts.access import Actor
from ketacare.accounts.models import SigningPin
from ketacare.errors import Refused
from ketacare.kernel import clock

SIGNING_SECRET_FIELD = "signing_secret"  # noqa: S105 - a form field name, not a secret
SIGNING_SECRET_HEADER = "X-KetaCare-Reauth"  # noqa: S105 - a header name
MAX_FAILURES = 5
LOCK_MINUTES = 15
# The stamp is made while the request is parsed; a long request still signs within it.
STAMP_LIFETIME = timedelta(minutes=2)
PIN_PATTERN = re.compile(r"^\d{4,8}$")


def _weak_pin(pin: str) -> bool:
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:], strict=False)}
    return len(set(pin)) == 1 or steps in ({1}, {-1})


@transaction.atomic
def signing_pin_set(*, actor: Actor, password: str, pin: str) -> None:
    """Set (or change) the actor's signing PIN; their current password authorises it."""
    if not actor.user.check_password(password):
        raise Refused("That is not your current password.", field="password", code="reauth_failed")
    if not PIN_PATTERN.match(pin):
        raise Refused("A signing PIN is 4 to 8 digits.", field="pin", code="pin_invalid")
    if _weak_pin(pin):
        raise Refused(
            "Choose a PIN that is not one digit repeated or a run (1234).",
            field="pin",
            code="pin_invalid",
        )
    SigningPin.objects.update_or_create(
        user=actor.user,
        defaults={
            "pin_hash": make_password(pin),
            "set_at": clock.wall_now(),
            "failed_attempts": 0,
            "locked_until": None,
        },
    )


def reauthenticate(*, actor: Actor, secret: str) -> Actor:
    """The actor stamped as re-authenticated now, if `secret` is their password or PIN.

    Refuses `reauth_failed` for a wrong secret (counted, and the count is kept although the
    request fails) and `reauth_locked` after too many.
    """
    now = clock.wall_now()
    with transaction.atomic():
        row, _ = SigningPin.objects.select_for_update().get_or_create(user=actor.user)
        locked_until = row.locked_until if row.locked_until and row.locked_until > now else None
        matches = False
        if locked_until is None:
            secret = secret or ""
            matches = bool(secret) and (
                actor.user.check_password(secret)
                or (bool(row.pin_hash) and check_password(secret, row.pin_hash))
            )
            if not matches:
                row.failed_attempts += 1
                if row.failed_attempts >= MAX_FAILURES:
                    row.locked_until = now + timedelta(minutes=LOCK_MINUTES)
                    row.failed_attempts = 0
                row.save(update_fields=["failed_attempts", "locked_until"])
            elif row.failed_attempts or row.locked_until:
                row.failed_attempts, row.locked_until = 0, None
                row.save(update_fields=["failed_attempts", "locked_until"])
    if locked_until is not None:
        raise Refused(
            f"Signing is locked until {timezone.localtime(locked_until):%H:%M} after "
            f"{MAX_FAILURES} wrong passwords or PINs.",
            field=SIGNING_SECRET_FIELD,
            code="reauth_locked",
        )
    if not matches:
        raise Refused(
            "Your password or signing PIN was not accepted.",
            field=SIGNING_SECRET_FIELD,
            code="reauth_failed",
        )
    return dataclasses.replace(actor, reauthenticated_at=now)


def reauth_require(actor: Actor, *, what: str) -> None:
    """Refuse (`reauth_required`) unless the actor re-authenticated in this request."""
    stamp = actor.reauthenticated_at
    if stamp is None or clock.wall_now() - stamp > STAMP_LIFETIME:
        raise Refused(
            f"Enter your password or signing PIN to sign {what}.",
            field=SIGNING_SECRET_FIELD,
            code="reauth_required",
        )
