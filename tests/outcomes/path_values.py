"""Records of a clinic for the route walker: a safety alert and an integration note."""

from tests.outcomes.factories import suicidality_alert


def _alert(clinic, patient, staff):
    return suicidality_alert(patient).pk


def _note(clinic, patient, staff):
    from django.utils import timezone

    from ketacare.outcomes.models import IntegrationNote

    return IntegrationNote.objects.create(
        clinic=clinic,
        patient=patient,
        body="Walk note",
        written_by=staff["therapist"],
        written_at=timezone.now(),
        idempotency_key=f"walk-{clinic.pk}-{patient.pk}",
    ).pk


def _response(clinic, patient, staff):
    return suicidality_alert(patient).response_id


FACTORIES = {"alert_id": _alert, "note_id": _note, "response_id": _response}
