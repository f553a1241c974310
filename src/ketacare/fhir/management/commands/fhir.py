"""`ketacare fhir token create USERNAME --scope "..."`: an API token with SMART-style scopes;
`ketacare fhir prune-exports`: delete the files of expired Bulk Data exports."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ketacare.accounts.models import Clinic, User
from ketacare.accounts.services import AccountError, token_create
from ketacare.fhir.bulk import exports_prune
from ketacare.fhir.models import TokenScope
from ketacare.fhir.registry import REGISTRY
from ketacare.fhir.scopes import ScopeError, parse_scopes
from ketacare.kernel import clock


class Command(BaseCommand):
    help = "FHIR: issue scoped API tokens; prune expired Bulk Data export files."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        token = sub.add_parser("token", help="Issue a token with SMART-style scopes.")
        token.add_argument("verb", choices=["create"])
        token.add_argument("username")
        token.add_argument("--clinic", help="Clinic slug (default: the user's first clinic)")
        token.add_argument("--name", default="FHIR client")
        token.add_argument(
            "--scope", required=True, help='Space-separated, e.g. "user/*.read system/*.read"'
        )
        sub.add_parser("prune-exports", help="Delete the files of expired exports.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "prune-exports":
            pruned = exports_prune(now=clock.wall_now())
            self.stdout.write(f"Pruned {pruned} expired export(s).")
            return
        try:
            scopes = parse_scopes(options["scope"], known_types=set(REGISTRY))
        except ScopeError as error:
            raise CommandError(str(error)) from None
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user named '{options['username']}'.")
        clinic = None
        if options["clinic"]:
            clinic = Clinic.objects.filter(slug=options["clinic"]).first()
            if clinic is None:
                raise CommandError(f"No clinic '{options['clinic']}'.")
        try:
            with transaction.atomic():
                token, raw = token_create(user=user, clinic=clinic, name=options["name"])
                TokenScope.objects.create(token=token, scopes=scopes.text())
        except AccountError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(raw)
