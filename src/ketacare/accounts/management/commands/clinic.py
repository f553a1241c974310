"""`ketacare clinic create SLUG "Name"` and `ketacare clinic list`."""

from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_slug

from ketacare.accounts.models import Clinic
from ketacare.accounts.services import AccountError, clinic_create


class Command(BaseCommand):
    help = "Create or list clinics (tenants)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a clinic.")
        create.add_argument("slug", help="Short identifier, e.g. north-clinic")
        create.add_argument("name", help='Display name, e.g. "North Clinic"')
        sub.add_parser("list", help="List clinics.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for clinic in Clinic.objects.order_by("slug"):
                self.stdout.write(f"{clinic.slug}\t{clinic.name}")
            return
        slug, name = options["slug"], options["name"].strip()
        try:
            validate_slug(slug)
        except ValidationError:
            raise CommandError(
                f"slug '{slug}' may use only letters, digits, hyphens and underscores."
            ) from None
        if not name:
            raise CommandError("name must not be empty.")
        try:
            clinic = clinic_create(slug=slug, name=name)
        except AccountError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Created clinic {clinic.slug} ({clinic.name})."))
