"""`ketacare mfa reset USERNAME` (lost phone) and `ketacare mfa code USERNAME` (demo only)."""

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketacare.accounts.models import User
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.home.mfa import current_code


class Command(BaseCommand):
    help = "Reset a user's second factor, or (off production) print a demo user's current code."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["reset", "code"])
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user named '{options['username']}'.")
        if options["action"] == "code":
            if settings.PRODUCTION:
                raise CommandError("Codes are printed only for demo installations.")
            code = current_code(user)
            if code is None:
                raise CommandError(f"{user.username} has no authenticator yet.")
            self.stdout.write(code)
            return
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        audit_record(
            actor=None,
            action=AuditAction.MFA,
            object_type="user",
            object_id=user.pk,
            username="operator (command line)",
            detail={"event": "reset", "user": user.username},
        )
        self.stdout.write(f"Second factor removed; {user.username} enrols at the next sign-in.")
