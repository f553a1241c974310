"""`ketacare init-demo`: migrate, then load the demo data (idempotent)."""

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from ketacare.accounts.models import User
from ketacare.demo import DEMO_PASSWORD, load_demo_data
from ketacare.home.mfa import ALWAYS_REQUIRED, demo_authenticator


class Command(BaseCommand):
    help = "Create or migrate the database and load demo data. Safe to run twice."

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        logins = load_demo_data()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready. Sign in at {settings.KETACARE_PUBLIC_URL}/login/ with:"
            )
        )
        for login in logins:
            self.stdout.write(f"  {login.username:<22} {login.role:<11} ({login.clinic})")
        self.stdout.write(f"Password for every demo login: {DEMO_PASSWORD}")
        # Admins and prescribers sign in with a second factor: each demo one has an
        # authenticator with a random key made on this install (never shared between installs).
        self.stdout.write(
            "Admins and prescribers also need an authenticator code: add the key to any TOTP "
            "app, or print the current code with `.venv/bin/ketacare mfa code USERNAME`."
        )
        for login in logins:
            if login.role in {role.value for role in ALWAYS_REQUIRED}:
                user = User.objects.get(username=login.username)
                self.stdout.write(f"  {login.username:<22} key {demo_authenticator(user)}")
