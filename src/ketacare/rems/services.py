"""Writes of the REMS app: certification, enrolment, monitoring forms filled, signed, submitted."""

from datetime import date

from django.db import transaction

from ketacare.accounts.access import Actor
from ketacare.accounts.models import Membership
from ketacare.accounts.permissions import Permission, role_may
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical import InvalidInput, ProtocolViolation
from ketacare.clinical import rems as rules
from ketacare.errors import Refused
from ketacare.kernel import clock
from ketacare.patients.models import Patient
from ketacare.patients.selectors import patient_lock_for_write
from ketacare.rems.models import (
    CertificationStatus,
    MonitoringForm,
    PatientEnrolment,
    SettingCertification,
    SubmissionMethod,
)
from ketacare.rems.selectors import clinic_today
from ketacare.rems.sessions import form_source
from ketacare.rems.signatures import content_hash, signature_append


def _text(value: str | None, field: str, *, required: bool = True, limit: int = 200) -> str:
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise Refused("This field is required.", field=field, code="required")
    if len(cleaned) > limit:
        raise Refused(f"At most {limit} characters.", field=field, code="too_long")
    return cleaned


def _audit(actor: Actor, action: str, kind: str, pk: int, patient_id: int | None) -> None:
    audit_record(actor=actor, action=action, object_type=kind, object_id=pk, patient_id=patient_id)


@transaction.atomic
def certification_record(
    *, actor: Actor, certification_id: str, location: str, authorised_representative: str,
    certified_on: date, valid_until: date | None, status: str,
) -> SettingCertification:  # fmt: skip
    """Record the setting's certification or a change in it (a new row; the old one stays)."""
    actor.require(Permission.REMS_MANAGE)
    if status not in CertificationStatus.values:
        raise Refused("Choose a status.", field="status", code="invalid")
    if valid_until is not None and valid_until < certified_on:
        raise Refused("Ends before it starts.", field="valid_until", code="invalid")
    record = SettingCertification.objects.create(
        clinic=actor.clinic,
        certification_id=_text(certification_id, "certification_id", limit=64),
        location=_text(location, "location"),
        authorised_representative=_text(authorised_representative, "authorised_representative"),
        certified_on=certified_on,
        valid_until=valid_until,
        status=status,
        recorded_by=actor.user,
        recorded_at=clock.now(),
    )
    _audit(actor, AuditAction.CREATE, "rems_certification", record.pk, None)
    return record


@transaction.atomic
def enrolment_record(
    *, actor: Actor, patient_id: int, rems_patient_id: str, enrolled_on: date,
    signed_by_patient: bool, prescriber_id: int,
) -> PatientEnrolment:  # fmt: skip
    """Enrol a patient in the REMS: the form signed by the patient and a prescriber."""
    actor.require(Permission.REMS_ENROL)
    if not Patient.objects.filter(pk=patient_id, clinic_id=actor.clinic_id).exists():
        raise Refused("No such patient.", field="patient_id", code="not_found")
    patient = patient_lock_for_write(clinic_id=actor.clinic_id, patient_id=patient_id)
    if not signed_by_patient:
        raise Refused(
            "The patient signs the enrolment form.", field="signed_by_patient", code="required"
        )
    if enrolled_on > clinic_today(actor):
        raise Refused("Enrolment cannot be in the future.", field="enrolled_on", code="invalid")
    membership = Membership.objects.filter(
        user_id=prescriber_id, clinic_id=actor.clinic_id, is_active=True
    ).first()
    if membership is None or not role_may(membership.role, Permission.DOSE_ORDER):
        raise Refused(
            "The enrolment form is signed by a prescriber of this clinic.",
            field="prescriber_id",
            code="not_prescriber",
        )
    if PatientEnrolment.objects.filter(patient=patient).exists():
        raise Refused("The patient is already enrolled.", field="patient_id", code="exists")
    enrolment = PatientEnrolment.objects.create(
        clinic=actor.clinic,
        patient=patient,
        rems_patient_id=_text(rems_patient_id, "rems_patient_id", limit=64),
        enrolled_on=enrolled_on,
        signed_by_patient=True,
        prescriber_id=prescriber_id,
        recorded_by=actor.user,
        recorded_at=clock.now(),
    )
    _audit(actor, AuditAction.CREATE, "rems_enrolment", enrolment.pk, patient.pk)
    return enrolment


def monitoring_form_open(
    *, clinic_id: int, session_id: int, patient_id: int, session_day: date
) -> MonitoringForm:
    """Open (once) the monitoring form a REMS session owes; called by the session's dose step."""
    form, _ = MonitoringForm.objects.get_or_create(
        session_id=session_id,
        defaults={
            "clinic_id": clinic_id,
            "patient_id": patient_id,
            "session_day": session_day,
            "due_on": rules.pmf_due_on(session_day),
            "definition_version": rules.PMF_CURRENT,
        },
    )
    return form


def _form(actor: Actor, form_id: int) -> MonitoringForm:
    form = (
        MonitoringForm.objects.select_for_update()
        .filter(pk=form_id, clinic_id=actor.clinic_id)
        .first()
    )
    if form is None:
        raise Refused("No such form.", field="form_id", code="not_found")
    return form


@transaction.atomic
def monitoring_form_fill(*, actor: Actor, form_id: int) -> MonitoringForm:
    """Fill (or refill) the form's answers from the session record, until it is signed."""
    actor.require(Permission.REMS_FORM_SIGN)
    form = _form(actor, form_id)
    if form.signed_at is not None:
        raise Refused("The form is signed; it no longer changes.", field="form_id", code="signed")
    answers = form_source().answers(actor=actor, session_id=form.session_id)
    definition = rules.pmf_definition(form.definition_version)
    form.answers = {f.id: answers.get(f.id) for f in definition.fields}
    form.filled_at = clock.now()
    form.filled_by = actor.user
    form.save(update_fields=["answers", "filled_at", "filled_by"])
    _audit(actor, AuditAction.UPDATE, "rems_form", form.pk, form.patient_id)
    return form


@transaction.atomic
def monitoring_form_sign(*, actor: Actor, form_id: int) -> MonitoringForm:
    """The monitoring clinician reviews and signs; refused while a required answer is missing.

    What is signed is appended to the clinic's chain of signatures (`rems.signatures`)."""
    actor.require(Permission.REMS_FORM_SIGN)
    form = _form(actor, form_id)
    if form.signed_at is not None:
        raise Refused("Already signed.", field="form_id", code="signed")
    if form.filled_at is None:
        raise Refused("Fill the form from the session record first.", field="form_id",
                      code="not_filled")  # fmt: skip
    missing = rules.pmf_missing(rules.pmf_definition(form.definition_version), form.answers)
    if missing:
        raise Refused(
            "The session record does not answer: " + ", ".join(missing) + ". Complete the record "
            "and fill the form again.",
            field=missing[0],
            code="incomplete",
        )
    form.signed_at = clock.now()
    form.signed_by = actor.user
    form.content_hash = content_hash(form.answers, form.definition_version)
    form.save(update_fields=["signed_at", "signed_by", "content_hash"])
    signature_append(form)
    _audit(actor, AuditAction.SIGN, "rems_form", form.pk, form.patient_id)
    return form


@transaction.atomic
def monitoring_form_submit(
    *, actor: Actor, form_id: int, submitted_on: date, method: str, confirmation_number: str,
    late_reason: str = "",
) -> MonitoringForm:  # fmt: skip
    """Record the submission: how, when, the confirmation number, by whom; late needs a reason."""
    actor.require(Permission.REMS_FORM_SUBMIT)
    form = _form(actor, form_id)
    if form.signed_at is None:
        raise Refused("Sign the form before submitting it.", field="form_id", code="not_signed")
    if form.submitted_on is not None:
        raise Refused("Already submitted.", field="form_id", code="submitted")
    if method not in SubmissionMethod.values:
        raise Refused("Choose how it was submitted.", field="method", code="invalid")
    try:
        rules.submission_ok(
            due_on=form.due_on, submitted_on=submitted_on, today=clinic_today(actor),
            late_reason=late_reason,
        )  # fmt: skip
    except ProtocolViolation as refusal:
        raise Refused(refusal.reason, field="late_reason", code=refusal.code) from None
    except InvalidInput as invalid:
        raise Refused(invalid.message, field="submitted_on", code="invalid") from None
    form.submitted_on = submitted_on
    form.method = method
    form.confirmation_number = _text(confirmation_number, "confirmation_number", limit=64)
    form.submitted_by = actor.user
    form.submitted_recorded_at = clock.now()
    form.late_reason = _text(late_reason, "late_reason", required=False, limit=2000)
    form.save()
    _audit(actor, AuditAction.UPDATE, "rems_form", form.pk, form.patient_id)
    return form
