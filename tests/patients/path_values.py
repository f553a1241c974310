"""Path values for the route walker: a measurement and a portal intake form of the clinic."""

from tests.patients.factories import BodyMeasurementFactory


def _intake_submission(clinic, patient, staff):
    import uuid

    from django.utils import timezone

    from ketacare.patients.models import IntakeSubmission

    return IntakeSubmission.objects.create(
        clinic=clinic,
        patient=patient,
        data={"medicines": {"none_known": True, "items": []}},
        idempotency_key=uuid.uuid4().hex,
        submitted_at=timezone.now(),
    ).pk


FACTORIES = {
    "measurement_id": lambda clinic, patient, staff: (
        BodyMeasurementFactory(patient=patient, recorded_by=staff["nurse"]).pk
    ),
    "intake_submission_id": _intake_submission,
}
