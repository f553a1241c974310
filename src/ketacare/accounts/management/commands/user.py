"""`ketacare user create USERNAME --clinic SLUG --role ROLE`, password from standard input."""

import getpass
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ketacare.accounts.models import Clinic
from ketacare.accounts.roles import Role
from ketacare.accounts.services import AccountError, user_create


def read_password(stdin: Any) -> str:
    """A password from the terminal (asked twice) or the first line of piped input."""
    if stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != first:
            raise CommandError("The passwords did not match.")
        return first
    return str(stdin.readline().rstrip("\n"))


class Command(BaseCommand):
    help = (
        "Create a staff user with a role in one clinic. The password is read from standard input."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a user.")
        create.add_argument("username")
        create.add_argument("--clinic", required=True, help="Clinic slug")
        create.add_argument("--role", required=True, choices=Role.values)
        create.add_argument("--first-name", default="")
        create.add_argument("--last-name", default="")
        create.add_argument("--email", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        clinic = Clinic.objects.filter(slug=options["clinic"]).first()
        if clinic is None:
            raise CommandError(
                f"No clinic with slug '{options['clinic']}' (see `ketacare clinic list`)."
            )
        password = read_password(sys.stdin)
        if not password:
            raise CommandError("No password given on standard input.")
        try:
            user = user_create(
                username=options["username"],
                password=password,
                clinic=clinic,
                role=options["role"],
                first_name=options["first_name"],
                last_name=options["last_name"],
                email=options["email"],
            )
        except ValidationError as exc:
            raise CommandError("password: " + " ".join(exc.messages)) from None
        except AccountError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Created {user.username} as {options['role']} at {clinic.slug}.")
        )
