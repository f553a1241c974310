"""The one way a page shows a refusal: on the form, on its field when the form shows that field."""

from django import forms

from ketacare.clinical.errors import ClinicalError, HardStop, InvalidInput, ProtocolViolation
from ketacare.errors import KetaCareError

# Hidden fields: a refusal naming them (a stale version, a reused key) is shown above the form.
HIDDEN_FIELDS = frozenset({"version", "idempotency_key"})


def refusal_message(error: Exception) -> str:
    """What to tell the user about a service's refusal or the core's decision."""
    if isinstance(error, KetaCareError):
        return error.message
    if isinstance(error, HardStop):
        return f"Hard stop: {error.reason}"
    if isinstance(error, ProtocolViolation):
        return error.reason
    if isinstance(error, InvalidInput):
        return error.message
    return str(error)


def refusal_status(error: Exception) -> int:
    """The HTTP status of a refusal: 409 for a conflict, 422 otherwise."""
    return int(getattr(error, "status_code", 422))


def refusal_to_form(
    form: forms.BaseForm, error: KetaCareError | ClinicalError, *, on_field: bool = True
) -> int:
    """Put a refusal on the form (on the field it names, when the form shows that field and
    `on_field`; otherwise above the form) and return the HTTP status to answer with."""
    field = getattr(error, "field", None)
    shown = on_field and field in form.fields and field not in HIDDEN_FIELDS
    form.add_error(field if shown else None, refusal_message(error))
    return refusal_status(error)
