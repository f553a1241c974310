"""The `ketacare` command: Django's management commands with friendlier names.

    ketacare init-demo                 migrate and load demo data
    ketacare serve [--host H] [--port P]
    ketacare clinic create SLUG "Name"
    ketacare user create USERNAME --clinic SLUG --role ROLE   (password on stdin)
    ketacare token create USERNAME
    ketacare audit verify [--checkpoints FILE] [--require-checkpoint] | checkpoint
    ketacare mfa reset USERNAME        remove a user's second factor (they enrol again)
    ketacare mfa code USERNAME         the current code of a demo user's authenticator
    ketacare backup DIR [--encrypt]    a consistent copy of the database with a manifest
    ketacare restore DIR               into an empty database; then verifies it
    ketacare permissions-doc [--check]
    ketacare session-states-doc [--check]
    ketacare worker                    run background tasks (questionnaires, reminders)
    ketacare synth --patients N --clinics K   a synthetic network (benchmarks, demonstrations)
    ketacare export --clinic SLUG ARCHIVE   a clinic's whole record as a zip archive
    ketacare import ARCHIVE            load an archive into an empty KetaCare
    ketacare fhir token create USERNAME --scope "user/*.read"

Anything else (migrate, check --deploy, createsuperuser, …) passes through to Django.
"""

import argparse
import os
import sys

ALIASES = {
    "init-demo": "init_demo",
    "permissions-doc": "permissions_doc",
    "session-states-doc": "session_states_doc",
    "worker": "ketacare_worker",
    "synth": "synth",
    "outcomes-refresh": "outcomes_refresh",
    "export": "clinic_export",
    "import": "clinic_import",
}


def _serve_arguments(argv: list[str]) -> list[str]:
    parser = argparse.ArgumentParser(prog="ketacare serve", description="Serve the web app.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--reload", action="store_true", help="Restart on code changes.")
    args = parser.parse_args(argv)
    command = ["runserver", f"{args.host}:{args.port}"]
    if not args.reload:
        command.append("--noreload")
    return command


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `ketacare` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketacare.config.settings")
    if argv and argv[0] == "serve":
        argv = _serve_arguments(argv[1:])
        # Links the server writes (portal, alerts) name where it is served unless configured.
        os.environ.setdefault("KETACARE_PUBLIC_URL", f"http://{argv[1]}")
    elif argv and argv[0] in ALIASES:
        argv = [ALIASES[argv[0]], *argv[1:]]
    from django.core.management import execute_from_command_line

    execute_from_command_line(["ketacare", *argv])


if __name__ == "__main__":
    main()
