"""Reads of the REMS app: the gate's facts, the queue, a form for the actor."""

from dataclasses import dataclass
from datetime import date

from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.clinical import rems as rules
from ketacare.clinical.ledger import is_current
from ketacare.kernel import clinic_time
from ketacare.rems.models import (
    CertificationStatus,
    MonitoringForm,
    PatientEnrolment,
    SettingCertification,
)


def clinic_today(actor: Actor) -> date:
    """Today at the clinic."""
    return clinic_time.clinic_today(actor.clinic)


def certification_current(*, clinic_id: int, on: date) -> SettingCertification | None:
    """The clinic's latest certification record, if it certifies the setting on that day."""
    latest = SettingCertification.objects.filter(clinic_id=clinic_id).first()
    if latest is None or latest.status != CertificationStatus.CERTIFIED:
        return None
    if not is_current(valid_from=latest.certified_on, valid_until=latest.valid_until, on=on):
        return None
    return latest


def rems_facts(*, clinic_id: int, patient_id: int, on: date) -> rules.RemsFacts:
    """What the REMS gate needs: is the setting certified today, is the patient enrolled."""
    enrolment = PatientEnrolment.objects.filter(patient_id=patient_id, clinic_id=clinic_id).first()
    return rules.RemsFacts(
        setting_certified=certification_current(clinic_id=clinic_id, on=on) is not None,
        patient_enrolled=enrolment is not None and enrolment.enrolled_on <= on,
    )


def enrolment_of(*, patient_id: int) -> PatientEnrolment | None:
    """A patient's enrolment, if any."""
    return PatientEnrolment.objects.filter(patient_id=patient_id).first()


@dataclass(frozen=True)
class QueueRow:
    """A form in the clinic's queue with its state today."""

    form: MonitoringForm
    state: rules.PmfState


def monitoring_form_queue(*, actor: Actor, state: str = "") -> list[QueueRow]:
    """The clinic's monitoring forms, due first, each with due/overdue/submitted."""
    today = clinic_today(actor)
    forms = (
        MonitoringForm.objects.filter(clinic_id=actor.clinic_id)
        .select_related("patient", "signed_by", "submitted_by")
        .order_by("submitted_on", "due_on", "id")
    )
    rows = [
        QueueRow(f, rules.pmf_state(due_on=f.due_on, submitted_on=f.submitted_on, today=today))
        for f in forms
    ]
    return [r for r in rows if not state or r.state == state]


def monitoring_form_get_for_actor(*, actor: Actor, form_id: int) -> MonitoringForm:
    """One form of the actor's clinic (404 otherwise)."""
    form = (
        MonitoringForm.objects.filter(pk=form_id, clinic_id=actor.clinic_id)
        .select_related("patient", "signed_by", "submitted_by", "filled_by")
        .first()
    )
    if form is None:
        raise Http404("Form not found.")
    return form


def certifications_of(*, actor: Actor) -> list[SettingCertification]:
    """The clinic's certification history, newest first."""
    return list(
        SettingCertification.objects.filter(clinic_id=actor.clinic_id).select_related("recorded_by")
    )
