"""What the ledger's pages share: running a service and putting its refusal on the form."""

from collections.abc import Callable
from typing import Any

from django import forms

from ketacare.errors import KetaCareError
from ketacare.ledger.services import WitnessNotConfirmed, witness_failure_record
from ketacare.web.forms import refusal_to_form


def attempt(form: forms.BaseForm, call: Callable[[], Any]) -> tuple[Any, int]:
    """Run a service: its result and 200, or None and the refusal's status with the refusal on
    the form (on the field it names when the form shows that field). A second person's wrong
    password is counted toward their lock after the service's transaction rolled back."""
    try:
        return call(), 200
    except WitnessNotConfirmed as refusal:
        # The step rolled back; the wrong password is counted in a transaction of its own.
        witness_failure_record(refusal=refusal)
        return None, refusal_to_form(form, refusal)
    except KetaCareError as refusal:
        return None, refusal_to_form(form, refusal)
