"""`ketacare token create USERNAME` (prints the token once), `token list`, `token revoke`."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ketacare.accounts.models import ApiToken, Clinic, User
from ketacare.accounts.services import AccountError, token_create, token_revoke


class Command(BaseCommand):
    help = "Create, list or revoke API tokens. Only a token's hash is stored."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Issue a token; it is printed once.")
        create.add_argument("username")
        create.add_argument("--clinic", help="Clinic slug (default: the user's first clinic)")
        create.add_argument("--name", default="", help="What the token is for")
        listing = sub.add_parser("list", help="List a user's tokens.")
        listing.add_argument("username")
        revoke = sub.add_parser("revoke", help="Revoke a token by its id.")
        revoke.add_argument("token_id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "revoke":
            token = ApiToken.objects.filter(pk=options["token_id"]).first()
            if token is None:
                raise CommandError(f"No token with id {options['token_id']}.")
            token_revoke(token=token)
            self.stdout.write(self.style.SUCCESS(f"Revoked token {token.pk} ({token.key_hint}…)."))
            return
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user named '{options['username']}'.")
        if action == "list":
            for token in user.api_tokens.select_related("clinic").order_by("created_at"):
                state = "revoked" if token.revoked_at else "active"
                self.stdout.write(
                    f"{token.pk}\t{token.key_hint}…\t{token.clinic.slug}\t{state}\t{token.name}"
                )
            return
        clinic = None
        if options["clinic"]:
            clinic = Clinic.objects.filter(slug=options["clinic"]).first()
            if clinic is None:
                raise CommandError(f"No clinic with slug '{options['clinic']}'.")
        try:
            _, raw = token_create(user=user, clinic=clinic, name=options["name"])
        except AccountError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(raw)
