"""Reads of screenings, scoped to the clinic."""

from ketacare.patients.models import Patient
from ketacare.screening.models import Screening, ScreeningStatus


def screening_allows_treatment(screening: Screening) -> bool:
    """Signed; short of eligible, signed with a reason (and co-signed when ineligible)."""
    if screening.signed_by_id is None or screening.superseded_at is not None:
        return False
    if screening.status == ScreeningStatus.ELIGIBLE:
        return True
    if not screening.sign_reason.strip():
        return False
    if screening.status == ScreeningStatus.INELIGIBLE:
        return screening.cosigned_by_id is not None
    return True


def screening_current_for(*, patient: Patient, route: str | None = None) -> Screening | None:
    """The latest screening of the patient (for the route, if given) that is not superseded.

    Callers check `screening_allows_treatment` and whether it is out of date before relying on it.
    """
    screenings = Screening.objects.filter(
        clinic_id=patient.clinic_id, patient=patient, superseded_at__isnull=True
    )
    if route is not None:
        screenings = screenings.filter(route=route)
    return screenings.order_by("-run_at", "-id").first()
