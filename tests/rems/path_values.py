"""Records of a clinic for the route walker: a monitoring form owed by a session."""

from django.utils import timezone

from ketacare.rems.services import monitoring_form_open
from tests.treatment.factories import session_row


def _form(clinic, patient, staff):
    session = session_row(clinic, patient, staff)
    return monitoring_form_open(
        clinic_id=clinic.pk, session_id=session.pk, patient_id=patient.pk,
        session_day=timezone.localdate(),
    ).pk  # fmt: skip


FACTORIES = {"form_id": _form}
