"""Records of a clinic for the route walker: a checked-in session and one of its readings."""

from tests.treatment.factories import session_row


def _session(clinic, patient, staff):
    return session_row(clinic, patient, staff).pk


def _entry(clinic, patient, staff):
    from django.utils import timezone

    from ketacare.treatment.models import MonitoringEntry

    session = session_row(clinic, patient, staff)
    return MonitoringEntry.objects.create(
        clinic=clinic,
        session=session,
        phase="pre_dose",
        taken_at=timezone.now(),
        systolic=190,
        diastolic=100,
        alarms=[{"code": "start_blocked", "message": "test", "action": "test"}],
        recorded_by=staff["nurse"],
        recorded_at=timezone.now(),
    ).pk


def _adverse_event(clinic, patient, staff):
    from django.utils import timezone

    from ketacare.treatment.models import AdverseEvent

    session = session_row(clinic, patient, staff)
    return AdverseEvent.objects.create(
        clinic=clinic,
        session=session,
        kind="nausea_vomiting",
        severity="mild",
        onset_at=timezone.now(),
        outcome="ongoing",
        recorded_by=staff["nurse"],
        recorded_at=timezone.now(),
    ).pk


def _medicine_given(clinic, patient, staff):
    from django.utils import timezone

    from ketacare.treatment.models import MedicineGiven

    session = session_row(clinic, patient, staff)
    return MedicineGiven.objects.create(
        clinic=clinic,
        session=session,
        medicine="Zofran",
        ingredients=["ondansetron"],
        dose="4",
        unit="mg",
        route="iv",
        given_at=timezone.now(),
        recorded_by=staff["nurse"],
        recorded_at=timezone.now(),
    ).pk


FACTORIES = {
    "session_id": _session,
    "monitoring_entry_id": _entry,
    "adverse_event_id": _adverse_event,
    "medicine_given_id": _medicine_given,
}
